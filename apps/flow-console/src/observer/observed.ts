/** An event record as the console's own group read it. */
export interface ObservedEvent {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka's timestamp of the record: when the producer sent it. */
  kafkaTimestamp: number;
  /** When the console's group read it. */
  seenAt: number;
  eventId: string;
  eventType: string;
  correlationId: string;
  /** From the payload, for the list of recent orders. */
  customerEmail: string | null;
  /** The trace the record belongs to, from its `traceparent` header; null when untraced. */
  traceId: string | null;
}

/** A record of a dead-letter topic, with the headers saying why it is there. */
export interface ObservedDeadLetter {
  topic: string;
  partition: number;
  offset: string;
  seenAt: number;
  eventId: string | null;
  eventType: string | null;
  correlationId: string | null;
  reason: string;
  error: string;
  group: string;
  attempts: number;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  failedAt: number;
}
