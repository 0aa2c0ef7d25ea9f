import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { ALL_EVENTS, decodeEvent, type EventContract } from '@shop/contracts';
import { runWithLogContext, type Logger } from '@shop/logging';
import { deadLetterTopic, toDeadLetter, type DeadLetterCause } from '../dead-letter';
import { eventPattern } from './on-event.decorator';
import {
  decideOnFailure,
  DEFAULT_RETRY_POLICY,
  type FailureHistory,
  type RetryPolicy,
} from './retry';

export interface KafkaEventServerOptions {
  kafka: Kafka;
  /** Every service has its own group: each sees every event once, whatever the others do. */
  groupId: string;
  logger: Logger;
  /** This consumer's retry policy; the defaults fill what it leaves out. */
  retry?: Partial<RetryPolicy>;
  /** Read a new group's topics from the start, so events published before its first run are not missed. */
  fromBeginning?: boolean;
  /** Partitions handled at once by one replica. */
  partitionsConsumedConcurrently?: number;
  /**
   * Messages of different keys (orders) handled at once within one partition; one key's messages
   * always wait for each other. Times partitionsConsumedConcurrently, it should stay within the
   * handlers' database pool.
   */
  concurrency?: number;
}

type ConsumerState = 'idle' | 'joining' | 'joined' | 'stopped' | 'crashed';

/** What became of one message: done with (handled, skipped or dead-lettered), or to be tried again. */
type Outcome = { done: true } | { done: false; retryInMs: number };

/**
 * A Nest microservice transport over kafkajs, used instead of Nest's built-in Kafka transport:
 * - handlers are found by contract (`@OnEvent(OrderPlaced)`), topics are derived from them;
 * - every message is validated against its contract before a handler sees it; one that can never
 *   be read goes to `<topic>.dlq` at once, so it cannot block its partition;
 * - messages of one key are handled in order, different keys side by side;
 * - a failing handler is retried with backoff by pausing only its partition and fetching the same
 *   message again later: other partitions keep flowing, and nothing past it is committed;
 * - after the last attempt the message goes to `<topic>.dlq` with headers saying why, and the
 *   partition moves on.
 */
export class KafkaEventServer extends Server implements CustomTransportStrategy {
  private consumer: Consumer | undefined;
  private deadLetters: Producer | undefined;
  private state: ConsumerState = 'idle';
  private readonly retry: RetryPolicy;
  private readonly log: Logger;
  private readonly failures = new Map<string, FailureHistory>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly completed = new Map<string, Set<string>>();
  private readonly concurrency: number;

  constructor(private readonly options: KafkaEventServerOptions) {
    super();
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.concurrency = options.concurrency ?? 3;
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

  /**
   * Leaves the group once the messages being handled are finished (kafkajs waits for the running
   * batch; no further message of it is started), so the next owner of each partition starts
   * exactly where this replica stopped.
   */
  async close(): Promise<void> {
    this.state = 'stopped';
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    const consumer = this.consumer;
    const deadLetters = this.deadLetters;
    this.consumer = undefined;
    this.deadLetters = undefined;
    await consumer?.disconnect();
    await deadLetters?.disconnect();
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
      // A replica that died without leaving is noticed after this long; its partitions wait meanwhile.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      // A resumed partition joins the next fetch; an idle fetch must not hold it up for long.
      maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    this.deadLetters = this.options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
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
    await this.deadLetters.connect();
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      // Offsets are resolved one message at a time, only once a message is done with.
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload, contracts),
    });
    this.log.info({ topics, events: contracts.map(eventPattern) }, 'consuming');
  }

  /**
   * Messages of one key (one order) are handled in offset order; different keys of a batch are
   * handled side by side, up to `concurrency` at once. Only the run of messages done from the start
   * of the batch is resolved; when a message must be retried, the partition is paused and fetched
   * again from the first message not done (those done past it are remembered and skipped).
   */
  private async handleBatch(payload: EachBatchPayload, contracts: EventContract[]): Promise<void> {
    const { batch, resolveOffset, heartbeat, pause, isRunning, isStale } = payload;
    const { topic, partition, messages } = batch;
    const stopping = () => !isRunning() || isStale() || this.state === 'stopped';
    const done = this.doneAhead(topic, partition);
    const outcomes: Array<Outcome | undefined> = new Array(messages.length);

    const lanes = new Map<string, number[]>();
    messages.forEach((message, index) => {
      const key = message.key?.toString('latin1') ?? `offset:${message.offset}`;
      lanes.set(key, [...(lanes.get(key) ?? []), index]);
    });
    const waiting = [...lanes.values()];
    const runLanes = async (): Promise<void> => {
      for (let lane = waiting.shift(); lane; lane = waiting.shift()) {
        for (const index of lane) {
          const message = messages[index];
          if (!message || stopping()) return;
          const outcome = done.has(message.offset)
            ? { done: true as const }
            : await this.handleMessage(topic, partition, message, contracts);
          outcomes[index] = outcome;
          if (!outcome.done) break;
          done.add(message.offset);
          await heartbeat();
        }
      }
    };
    const workers = Math.min(this.concurrency, waiting.length);
    await Promise.all(Array.from({ length: workers }, runLanes));

    const firstNotDone = outcomes.findIndex((outcome) => !outcome?.done);
    const doneUpTo = firstNotDone === -1 ? messages.length : firstNotDone;
    const lastDone = messages[doneUpTo - 1];
    if (lastDone) {
      resolveOffset(lastDone.offset);
      for (const offset of done) if (BigInt(offset) <= BigInt(lastDone.offset)) done.delete(offset);
    }
    const retryDelays = outcomes.flatMap((outcome) =>
      outcome && !outcome.done ? [outcome.retryInMs] : [],
    );
    if (retryDelays.length === 0 || stopping()) return;
    // Unresolved messages are fetched again once the partition resumes.
    const resume = pause();
    const timer = setTimeout(
      () => {
        this.resumeTimers.delete(timer);
        resume();
      },
      Math.min(...retryDelays),
    );
    this.resumeTimers.add(timer);
  }

  /** Offsets of a partition handled past its resolved offset, so a refetch does not redo them. */
  private doneAhead(topic: string, partition: number): Set<string> {
    const key = `${topic}:${partition}`;
    let done = this.completed.get(key);
    if (!done) this.completed.set(key, (done = new Set()));
    return done;
  }

  private async handleMessage(
    topic: string,
    partition: number,
    message: KafkaMessage,
    contracts: EventContract[],
  ): Promise<Outcome> {
    const where = { topic, partition, offset: message.offset };
    const decoded = decodeEvent(message.value, contracts);
    if (decoded.kind === 'unhandled') return { done: true };
    if (decoded.kind === 'invalid') {
      const { eventId, eventType, message: problem } = decoded.error;
      this.log.error({ ...where, eventId, eventType }, `dead-lettering invalid event: ${problem}`);
      return this.deadLetter(message, { ...where, reason: 'invalid-event', error: problem }, 1);
    }
    const { event, contract } = decoded;
    const handler = this.getHandlerByPattern(eventPattern(contract));
    if (!handler) return { done: true };
    const context = {
      correlationId: event.correlationId,
      eventId: event.eventId,
      eventType: event.type,
    };
    return runWithLogContext(context, async (): Promise<Outcome> => {
      const key = `${topic}:${partition}:${message.offset}`;
      try {
        await lastValueFrom(this.transformToObservable(await handler(event)), {
          defaultValue: undefined,
        });
        this.failures.delete(key);
        return { done: true };
      } catch (error) {
        const previous = this.failures.get(key);
        const history = {
          attempts: (previous?.attempts ?? 0) + 1,
          firstFailedAt: previous?.firstFailedAt ?? Date.now(),
        };
        const decision = decideOnFailure(this.retry, error, history);
        if (decision.action === 'retry') {
          this.failures.set(key, history);
          this.log.warn(
            { err: error, ...where, attempt: history.attempts, retryInMs: decision.delayMs },
            'event handler failed; retrying',
          );
          return { done: false, retryInMs: decision.delayMs };
        }
        this.log.error(
          { err: error, ...where, attempts: history.attempts },
          'event handler failed on its last attempt; dead-lettering the event',
        );
        const cause = { ...where, reason: 'handler-failed' as const, error: describe(error) };
        const outcome = await this.deadLetter(message, cause, history.attempts);
        if (outcome.done) this.failures.delete(key);
        return outcome;
      }
    });
  }

  /** Publishes the dead letter; the source offset is resolved only once the broker has it. */
  private async deadLetter(
    message: KafkaMessage,
    cause: Omit<DeadLetterCause, 'attempts' | 'consumerGroup' | 'failedAt'> & { offset: string },
    attempts: number,
  ): Promise<Outcome> {
    const producer = this.deadLetters;
    if (!producer) return { done: false, retryInMs: this.retry.maxDelayMs };
    try {
      await producer.send({
        topic: deadLetterTopic(cause.topic),
        acks: -1,
        messages: [
          toDeadLetter(message, {
            ...cause,
            attempts,
            consumerGroup: this.options.groupId,
            failedAt: new Date(),
          }),
        ],
      });
      return { done: true };
    } catch (error) {
      this.log.warn(
        { err: error, topic: cause.topic, partition: cause.partition, offset: cause.offset },
        'could not publish the dead letter; the message will be tried again',
      );
      return { done: false, retryInMs: this.retry.maxDelayMs };
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === 'object' ? JSON.stringify(error) : String(error);
}
