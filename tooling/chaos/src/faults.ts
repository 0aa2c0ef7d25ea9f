import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ALL_TOPICS,
  OrderCancelled,
  StockReserved,
  type EventContract,
  type TopicName,
} from '@shop/contracts';
import { EventProbe, TestProducer, devstackKafkaSasl } from '@shop/devstack';
import { Kafka, logLevel, type Message, type Producer } from 'kafkajs';

/**
 * For each topic, an event type that every consumer group of that topic handles: an unknown
 * version or a bad payload of it is then invalid for each of them. (A type a group does not
 * handle is skipped as not its business, not dead-lettered.)
 */
const HANDLED_BY_EVERY_READER: Record<TopicName, EventContract> = {
  'order-events': OrderCancelled,
  'inventory-events': StockReserved,
};

export interface PoisonMessage {
  kind: string;
  topic: TopicName;
  value: string;
}

/** Messages no consumer can read, one of each kind per topic. */
export function poisonMessages(): PoisonMessage[] {
  return ALL_TOPICS.flatMap((topic) => {
    const contract = HANDLED_BY_EVERY_READER[topic];
    const envelope = (version: number, payload: unknown): string =>
      JSON.stringify({
        eventId: randomUUID(),
        type: contract.type,
        version,
        occurredAt: new Date().toISOString(),
        correlationId: randomUUID(),
        causationId: null,
        payload,
      });
    return [
      {
        kind: 'malformed JSON',
        topic,
        value: `{"eventId":"${randomUUID()}","type":"${contract.type}`,
      },
      { kind: 'not an object', topic, value: '["not", "an", "event"]' },
      {
        kind: 'envelope missing',
        topic,
        value: JSON.stringify({ type: contract.type, payload: {} }),
      },
      {
        kind: 'wrong payload',
        topic,
        value: envelope(contract.version, { orderId: 'not-a-uuid', items: 'none' }),
      },
      {
        kind: 'unknown version',
        topic,
        value: envelope(contract.version + 98, { orderId: randomUUID(), items: [] }),
      },
    ];
  });
}

/** Publishes the poison messages one by one, `gapMs` apart, while valid traffic flows. */
export async function publishPoison(
  brokers: string,
  messages: readonly PoisonMessage[],
  gapMs: number,
): Promise<void> {
  const producer = await TestProducer.start(brokers);
  try {
    for (const message of messages) {
      await producer.send(message.topic, randomUUID(), message.value);
      await sleep(gapMs);
    }
  } finally {
    await producer.stop();
  }
}

/**
 * Delivers events again: every event about the chosen orders is published `copies` more times,
 * byte for byte the same event (same id), as a producer retry or a replay would.
 */
export class Republisher {
  private readonly done = new Set<string>();
  private readonly topicsUsed = new Set<string>();
  private published = 0;

  private constructor(
    private readonly probe: EventProbe,
    private readonly producer: Producer,
    private readonly copies: number,
  ) {}

  static async start(brokers: string, copies: number): Promise<Republisher> {
    const producer = new Kafka({
      clientId: 'chaos-republisher',
      brokers: brokers.split(','),
      sasl: devstackKafkaSasl(),
      logLevel: logLevel.NOTHING,
    }).producer({ allowAutoTopicCreation: false });
    const [probe] = await Promise.all([EventProbe.start(brokers, ALL_TOPICS), producer.connect()]);
    return new Republisher(probe, producer, copies);
  }

  /** Republishes the events about these orders not republished yet; returns how many copies went out. */
  async republish(orderIds: ReadonlySet<string>): Promise<number> {
    const batches = new Map<string, Message[]>();
    for (const { topic, key, event } of this.probe.all()) {
      if (!event || !orderIds.has(event.correlationId) || this.done.has(event.eventId)) continue;
      this.done.add(event.eventId);
      const message = { key: key ?? event.correlationId, value: JSON.stringify(event) };
      const batch = batches.get(topic) ?? [];
      for (let copy = 0; copy < this.copies; copy++) batch.push(message);
      batches.set(topic, batch);
      this.topicsUsed.add(topic);
    }
    const topicMessages = [...batches].map(([topic, messages]) => ({ topic, messages }));
    const sent = topicMessages.reduce((sum, batch) => sum + batch.messages.length, 0);
    if (sent > 0) await this.producer.sendBatch({ acks: -1, topicMessages });
    this.published += sent;
    return sent;
  }

  /** Distinct events republished so far, and the copies sent of them. */
  totals(): { events: number; copies: number } {
    return { events: this.done.size, copies: this.published };
  }

  /** The topics copies went to. */
  topics(): string[] {
    return [...this.topicsUsed];
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.probe.stop(), this.producer.disconnect()]);
  }
}
