import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { ALL_EVENTS, decodeEvent, type EventContract } from '@shop/contracts';
import { runWithLogContext, type Logger } from '@shop/logging';
import { eventPattern } from './on-event.decorator';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

export interface KafkaEventServerOptions {
  kafka: Kafka;
  /** Every service has its own group: each sees every event once, whatever the others do. */
  groupId: string;
  logger: Logger;
  retry?: RetryPolicy;
  /** Read a new group's topics from the start, so events published before its first run are not missed. */
  fromBeginning?: boolean;
}

type ConsumerState = 'idle' | 'joining' | 'joined' | 'stopped' | 'crashed';

/**
 * A Nest microservice transport over kafkajs, used instead of Nest's built-in Kafka transport:
 * - handlers are found by contract (`@OnEvent(OrderPlaced)`), topics are derived from them;
 * - every message is validated against its contract before a handler sees it;
 * - an invalid message is logged with its id, topic, partition and offset and skipped, so it
 *   cannot block its partition;
 * - a failing handler is retried with backoff (heartbeating meanwhile); partitions are
 *   consumed concurrently, so one slow partition does not stall the others.
 */
export class KafkaEventServer extends Server implements CustomTransportStrategy {
  private consumer: Consumer | undefined;
  private state: ConsumerState = 'idle';
  private readonly retry: RetryPolicy;
  private readonly log: Logger;

  constructor(private readonly options: KafkaEventServerOptions) {
    super();
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.log = options.logger.child({ component: 'kafka-consumer', groupId: options.groupId });
  }

  /** True once the consumer has joined its group and is fetching. */
  get isReady(): boolean {
    return this.state === 'joined';
  }

  get consumerState(): ConsumerState {
    return this.state;
  }

  /** Contracts with a registered handler; the topics to subscribe to follow from them. */
  handledContracts(): EventContract[] {
    return ALL_EVENTS.filter(
      (contract) => this.getHandlerByPattern(eventPattern(contract)) !== null,
    );
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    this.state = 'stopped';
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  on(): never {
    throw new Error('KafkaEventServer does not support event listeners');
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('KafkaEventServer is not listening');
    return this.consumer as T;
  }

  private async start(): Promise<void> {
    const contracts = this.handledContracts();
    const topics = [...new Set(contracts.map((contract) => contract.topic))];
    if (topics.length === 0) return;
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.state = 'joined';
      this.log.info({ memberAssignment: payload.memberAssignment }, 'consumer joined its group');
    });
    consumer.on(consumer.events.REBALANCING, () => (this.state = 'joining'));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.state = payload.restart ? 'joining' : 'crashed';
      this.log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
    consumer.on(consumer.events.STOP, () => {
      if (this.state !== 'crashed') this.state = 'stopped';
    });

    this.state = 'joining';
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      partitionsConsumedConcurrently: 3,
      eachMessage: (payload) => this.handleMessage(payload, contracts),
    });
    this.log.info({ topics, events: contracts.map(eventPattern) }, 'consuming');
  }

  private async handleMessage(
    message: EachMessagePayload,
    contracts: EventContract[],
  ): Promise<void> {
    const { topic, partition } = message;
    const offset = message.message.offset;
    const decoded = decodeEvent(message.message.value, contracts);
    if (decoded.kind === 'unhandled') return;
    if (decoded.kind === 'invalid') {
      this.log.error(
        {
          topic,
          partition,
          offset,
          eventId: decoded.error.eventId,
          eventType: decoded.error.eventType,
        },
        `skipping invalid event: ${decoded.error.message}`,
      );
      return;
    }
    const { event, contract } = decoded;
    const handler = this.getHandlerByPattern(eventPattern(contract));
    if (!handler) return;
    const context = {
      correlationId: event.correlationId,
      eventId: event.eventId,
      eventType: event.type,
    };
    await runWithLogContext(context, async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await lastValueFrom(this.transformToObservable(await handler(event)), {
            defaultValue: undefined,
          });
          return;
        } catch (error) {
          if (attempt >= this.retry.attempts || this.state === 'stopped') {
            this.log.error(
              { err: error, topic, partition, offset, attempts: attempt },
              'event handler failed on every attempt; the message stays uncommitted and is redelivered',
            );
            throw error;
          }
          const delay = backoffDelay(this.retry, attempt);
          this.log.warn(
            { err: error, topic, partition, offset, attempt, retryInMs: delay },
            'event handler failed; retrying',
          );
          await sleepWithHeartbeat(delay, message.heartbeat);
        }
      }
    });
  }
}

async function sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, until - Date.now())));
    await heartbeat().catch(() => undefined);
  }
}
