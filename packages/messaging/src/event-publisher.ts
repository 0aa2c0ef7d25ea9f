import type { Span } from '@opentelemetry/api';
import { Partitioners, type Kafka, type Message } from 'kafkajs';
import { IdempotentProducer } from './idempotent-producer';
import type { OutboxRecord } from './outbox/outbox-record';
import { contextOf, endSpan, startSendSpan } from './tracing';

export const EventHeaders = {
  eventId: 'event-id',
  eventType: 'event-type',
  correlationId: 'correlation-id',
} as const;

/**
 * Idempotent producer (the broker drops retried duplicates) with one request in flight,
 * so retries cannot reorder the events of one key.
 */
export class KafkaEventPublisher {
  private readonly producer: IdempotentProducer;

  constructor(kafka: Kafka) {
    this.producer = new IdempotentProducer(kafka, {
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  get isConnected(): boolean {
    return this.producer.isConnected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  async publish(records: readonly OutboxRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    const spans: Span[] = [];
    for (const record of records) {
      const { span, headers } = startSendSpan(
        record.topic,
        {
          'messaging.message.id': record.eventId,
          'messaging.kafka.message.key': record.messageKey,
          'shop.event.type': record.eventType,
        },
        contextOf(record.traceContext),
      );
      spans.push(span);
      const messages = byTopic.get(record.topic) ?? [];
      messages.push(toMessage(record, headers));
      byTopic.set(record.topic, messages);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (error) {
      for (const span of spans) endSpan(span, error);
      throw error;
    }
    for (const span of spans) endSpan(span);
  }
}

function toMessage(record: OutboxRecord, traceHeaders: Record<string, string>): Message {
  return {
    key: record.messageKey,
    value: JSON.stringify(record.payload),
    headers: {
      [EventHeaders.eventId]: record.eventId,
      [EventHeaders.eventType]: record.eventType,
      [EventHeaders.correlationId]: record.payload.correlationId,
      'content-type': 'application/json',
      ...traceHeaders,
    },
  };
}
