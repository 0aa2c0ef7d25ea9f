/**
 * Kafka topic names, defined once.
 * WARNING: renaming a topic is a breaking change for every producer and consumer;
 * add a new topic and migrate instead.
 */
export const Topics = {
  orderEvents: 'order-events',
  inventoryEvents: 'inventory-events',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly TopicName[] = Object.values(Topics);

/** Every topic is created with at least this many partitions; events are keyed by order id. */
export const TOPIC_PARTITIONS = 3;

/** Every source topic has one dead-letter topic beside it. */
export function deadLetterTopic(topic: string): string {
  return `${topic}${DEAD_LETTER_SUFFIX}`;
}

export const DEAD_LETTER_SUFFIX = '.dlq';

/** Dead letters are kept for two weeks: long enough to notice, fix and replay. */
export const DEAD_LETTER_RETENTION_MS = 14 * 24 * 3_600_000;
