import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@shop/logging';

/** One record as a watching group reads it: where it is, when Kafka stamped it, and its headers. */
export interface WatchedRecord {
  topic: string;
  partition: number;
  offset: string;
  /** The record's Kafka timestamp (the producer's create time), ms since the epoch. */
  timestamp: number;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer | null;
}

export interface TopicWatcherOptions {
  kafka: Kafka;
  /** A group of its own: it sees every record without taking any from the services' groups. */
  groupId: string;
  topics: readonly string[];
  logger: Logger;
  onRecords(records: WatchedRecord[]): void;
}

/** Reads every record of the given topics from the beginning, for an observer; changes nothing. */
export class TopicWatcher {
  private consumer: Consumer | undefined;
  private joined = false;

  constructor(private readonly options: TopicWatcherOptions) {}

  get isReady(): boolean {
    return this.joined;
  }

  async start(): Promise<void> {
    const { kafka, groupId, topics, onRecords } = this.options;
    const consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      // Records are returned as soon as they arrive; this only bounds how often an idle fetch repeats.
      maxWaitTimeInMs: 1_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => (this.joined = true));
    consumer.on(consumer.events.REBALANCING, () => (this.joined = false));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      this.options.logger.error({ err: payload.error }, 'topic watcher crashed');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch }) => {
        onRecords(
          batch.messages.map((message) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            timestamp: Number(message.timestamp),
            key: message.key?.toString() ?? null,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).flatMap(([name, value]) =>
                value === undefined ? [] : [[name, value.toString()]],
              ),
            ),
            value: message.value,
          })),
        );
      },
    });
  }

  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.joined = false;
    await consumer?.disconnect();
  }
}
