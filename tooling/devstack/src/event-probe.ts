import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import type { EnvelopeHeader } from '@shop/contracts';
import { waitFor } from './wait';
import { devstackKafkaSasl } from './kafka';

export interface ObservedEvent {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The parsed message; `undefined` when it was not JSON. */
  event: (EnvelopeHeader & { payload: Record<string, unknown> }) | undefined;
}

/**
 * Test-side view of what services publish: a consumer in its own throwaway group that keeps
 * every message of the given topics, and waits for the ones a test expects.
 */
export class EventProbe {
  private readonly seen: ObservedEvent[] = [];
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string, topics: readonly string[]): Promise<EventProbe> {
    const kafka = new Kafka({
      clientId: 'event-probe',
      brokers: brokers.split(','),
      sasl: devstackKafkaSasl(),
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({ groupId: `event-probe-${randomUUID()}` });
    const probe = new EventProbe(consumer);
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        probe.record({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          event: parse(message.value?.toString()),
        });
      },
    });
    await waitFor(() => joined, {
      timeoutMs: 30_000,
      description: 'the event probe to join its group',
    });
    return probe;
  }

  all(): ObservedEvent[] {
    return [...this.seen];
  }

  matching(predicate: (observed: ObservedEvent) => boolean): ObservedEvent[] {
    return this.seen.filter(predicate);
  }

  ofType(type: string, orderId?: string): ObservedEvent[] {
    return this.matching(
      (observed) =>
        observed.event?.type === type &&
        (orderId === undefined || observed.event.payload.orderId === orderId),
    );
  }

  /** Resolves with the first `count` matching events once they have all arrived. */
  async waitFor(
    predicate: (observed: ObservedEvent) => boolean,
    description: string,
    options: { count?: number; timeoutMs?: number } = {},
  ): Promise<ObservedEvent[]> {
    const count = options.count ?? 1;
    const found = () => {
      const matches = this.matching(predicate);
      return matches.length >= count ? matches.slice(0, count) : undefined;
    };
    const already = found();
    if (already) return already;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        const seenTypes = this.seen
          .map((observed) => observed.event?.type ?? '(not JSON)')
          .join(', ');
        reject(
          new Error(`timed out waiting for ${count} × ${description}; seen so far: [${seenTypes}]`),
        );
      }, options.timeoutMs ?? 30_000);
      const check = () => {
        const matches = found();
        if (!matches) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(matches);
      };
      this.listeners.add(check);
    });
  }

  waitForType(type: string, orderId: string, timeoutMs?: number): Promise<ObservedEvent[]> {
    return this.waitFor(
      (observed) => observed.event?.type === type && observed.event.payload.orderId === orderId,
      `${type} for order ${orderId}`,
      { timeoutMs },
    );
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private record(observed: ObservedEvent): void {
    this.seen.push(observed);
    for (const listener of [...this.listeners]) listener();
  }
}

/** A plain producer for tests: publishes exactly the bytes given, valid or not. */
export class TestProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly brokers: string,
  ) {}

  static async start(brokers: string): Promise<TestProducer> {
    const kafka = new Kafka({
      clientId: 'test-producer',
      brokers: brokers.split(','),
      sasl: devstackKafkaSasl(),
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    return new TestProducer(producer, brokers);
  }

  async send(
    topic: string,
    key: string,
    value: string | object,
  ): Promise<{ partition: number; offset: string }> {
    const [metadata] = await this.producer.send({
      topic,
      acks: -1,
      messages: [{ key, value: typeof value === 'string' ? value : JSON.stringify(value) }],
    });
    if (!metadata) throw new Error(`no delivery report for the message to ${topic}`);
    return { partition: metadata.partition, offset: metadata.baseOffset ?? '-1' };
  }

  /**
   * Waits until `groupId` has committed past the given message: the consumer has handled it.
   * Lets a test assert that a redelivered event had no effect without sleeping.
   */
  async waitUntilConsumed(
    groupId: string,
    topic: string,
    delivered: { partition: number; offset: string },
    timeoutMs = 30_000,
  ): Promise<void> {
    const kafka = new Kafka({
      clientId: 'test-offsets',
      brokers: this.brokers.split(','),
      sasl: devstackKafkaSasl(),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor(
        async () => {
          const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
          const committed = offsets?.partitions.find(
            (entry) => entry.partition === delivered.partition,
          )?.offset;
          return committed !== undefined && BigInt(committed) > BigInt(delivered.offset);
        },
        {
          timeoutMs,
          intervalMs: 100,
          description: `group ${groupId} to commit past ${topic}[${delivered.partition}]@${delivered.offset}`,
        },
      );
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.producer.disconnect();
  }
}

function parse(value: string | undefined): ObservedEvent['event'] {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as ObservedEvent['event'];
  } catch {
    return undefined;
  }
}
