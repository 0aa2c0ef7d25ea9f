import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Span } from '@opentelemetry/api';
import { lastValueFrom } from 'rxjs';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Offsets } from 'kafkajs';
import {
  ALL_EVENTS,
  decodeEvent,
  type Decoded,
  type EventContract,
  type EventOf,
} from '@shop/contracts';
import { runWithLogContext, type Logger } from '@shop/logging';
import { deadLetterTopic, toDeadLetter, type DeadLetterCause } from '../dead-letter';
import { EventHeaders } from '../event-publisher';
import { IdempotentProducer } from '../idempotent-producer';
import type { MessagingMetrics } from '../metrics';
import { contextOfHeaders, endSpan, startProcessSpan, withHandledEvents } from '../tracing';
import { attachDelivery } from './delivery';
import { OffsetCommits, type CommitTarget } from './offset-commits';
import { batchPattern, eventPattern } from './on-event.decorator';
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
  /** This process among the group's members, recorded with what it handles. */
  replica: string;
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
  /** Handler durations, batch sizes, retries and dead letters, when the process exports metrics. */
  metrics?: MessagingMetrics;
  /**
   * Offsets done with are committed at most this often (0: after every batch). A crash delivers
   * again what was done since the last commit; a graceful stop commits everything first.
   */
  commitIntervalMs?: number;
}

export const DEFAULT_COMMIT_INTERVAL_MS = 100;

type ConsumerState = 'idle' | 'joining' | 'joined' | 'stopped' | 'crashed';

/** What this replica's consumer is doing, for operators and the flow console. */
export interface ConsumerFigures {
  state: ConsumerState;
  /** Paused on request (not by a retry's backoff): nothing is fetched until resumed. */
  paused: boolean;
  /** Messages failed at least once and waiting for their next attempt. */
  retrying: number;
  /** The first of them, with where they are and how often they failed. */
  retries: Array<{
    topic: string;
    partition: number;
    offset: string;
    attempts: number;
    since: string;
  }>;
  /** Messages this replica sent to a dead-letter topic since it started. */
  deadLettered: number;
  lastDeadLetter: { topic: string; reason: string; error: string; at: string } | null;
}

/** What became of one message: done with (handled, skipped or dead-lettered), or to be tried again. */
type Outcome = { done: true } | { done: false; retryInMs: number };

/** A fetched message this consumer has to handle, decoded once. */
interface PendingMessage {
  index: number;
  message: KafkaMessage;
  decoded: Exclude<Decoded, { kind: 'unhandled' }>;
}

/** Messages handled together by a batch handler, or (with none) one at a time. */
interface Unit {
  batch: MessageHandler | null;
  items: PendingMessage[];
}

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
  private commits: OffsetCommits | undefined;
  private deadLetters: IdempotentProducer | undefined;
  private state: ConsumerState = 'idle';
  private readonly retry: RetryPolicy;
  private readonly log: Logger;
  private readonly failures = new Map<string, FailureHistory>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly completed = new Map<string, Set<string>>();
  private readonly concurrency: number;
  private topics: string[] = [];
  private paused = false;
  private deadLettered = 0;
  private lastDeadLetter: ConsumerFigures['lastDeadLetter'] = null;

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

  figures(): ConsumerFigures {
    return {
      state: this.state,
      paused: this.paused,
      retrying: this.failures.size,
      retries: [...this.failures].slice(0, 20).map(([key, history]) => {
        const [topic = '', partition = '0', offset = ''] = key.split(':');
        return {
          topic,
          partition: Number(partition),
          offset,
          attempts: history.attempts,
          since: new Date(history.firstFailedAt).toISOString(),
        };
      }),
      deadLettered: this.deadLettered,
      lastDeadLetter: this.lastDeadLetter,
    };
  }

  /**
   * Stops fetching without leaving the group: the partitions stay assigned to this replica, so
   * their lag grows while it is paused. Kept in memory only: a restart consumes again.
   */
  pauseConsumption(): void {
    this.paused = true;
    this.consumer?.pause(this.topics.map((topic) => ({ topic })));
    this.log.warn('consumption paused on request');
  }

  resumeConsumption(): void {
    this.paused = false;
    this.consumer?.resume(this.topics.map((topic) => ({ topic })));
    this.log.info('consumption resumed on request');
  }

  /** The topics this consumer reads, once it has started. */
  subscribedTopics(): string[] {
    return [...this.topics];
  }

  /** Contracts with a registered handler; the topics to subscribe to follow from them. */
  handledContracts(): EventContract[] {
    return ALL_EVENTS.filter(
      (contract) =>
        this.getHandlerByPattern(eventPattern(contract)) !== null ||
        this.getHandlerByPattern(batchPattern(contract)) !== null,
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
    // What is done so far is committed now; a batch still running commits its own as it ends.
    this.commits?.stop();
    await this.commits?.flush();
    const consumer = this.consumer;
    const deadLetters = this.deadLetters;
    this.consumer = undefined;
    this.deadLetters = undefined;
    await consumer?.disconnect();
    this.commits = undefined;
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
    this.topics = topics;
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
    const commits = new OffsetCommits(
      this.options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
      (targets) => consumer.commitOffsets(targets),
      this.log,
    );
    this.commits = commits;
    this.deadLetters = new IdempotentProducer(this.options.kafka, {
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      commits.forget();
      this.state = 'joined';
      this.log.info({ memberAssignment: payload.memberAssignment }, 'consumer joined its group');
    });
    consumer.on(consumer.events.REBALANCING, () => {
      commits.forget();
      this.state = 'joining';
    });
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
      // Offsets are resolved one message at a time, only once a message is done with, and
      // committed per interval by OffsetCommits.
      eachBatchAutoResolve: false,
      autoCommit: false,
      eachBatch: (payload) => this.handleBatch(payload, contracts),
    });
    if (this.paused) this.pauseConsumption();
    this.log.info({ topics, events: contracts.map(eventPattern) }, 'consuming');
  }

  /**
   * A fetched partition batch is cut into units, handled one after the other in offset order:
   * - consecutive messages of a contract with a batch handler (`@OnEvents`) go to it together;
   *   if it throws, they are handled one at a time like any other message;
   * - other messages are handled per message: one key's (one order's) in offset order, different
   *   keys side by side, up to `concurrency` at once.
   * Only the run of messages done from the start of the batch is resolved; when a message must be
   * retried, the partition is paused and fetched again from the first message not done (those done
   * past it are remembered and skipped), and no later unit is started.
   */
  private async handleBatch(payload: EachBatchPayload, contracts: EventContract[]): Promise<void> {
    const { batch, resolveOffset, heartbeat, pause, isRunning, isStale, commitOffsetsIfNecessary } =
      payload;
    const { topic, partition, messages } = batch;
    const stopping = () => !isRunning() || isStale() || this.state === 'stopped';
    const done = this.doneAhead(topic, partition);
    const outcomes: Array<Outcome | undefined> = new Array(messages.length);
    const finish = (item: PendingMessage, outcome: Outcome) => {
      outcomes[item.index] = outcome;
      if (outcome.done) done.add(item.message.offset);
    };

    const units = this.unitsOf(topic, partition, messages, contracts, done);
    this.countFetched(units);
    // What is in no unit needs nothing more: done ahead of a retry, or not this consumer's event.
    messages.forEach((_, index) => (outcomes[index] = { done: true }));
    for (const unit of units) for (const item of unit.items) outcomes[item.index] = undefined;
    for (const unit of units) {
      if (stopping()) break;
      if (
        unit.batch &&
        unit.items.length > 1 &&
        (await this.handleTogether(topic, partition, unit.batch, unit.items))
      ) {
        for (const item of unit.items) finish(item, { done: true });
        await heartbeat();
        continue;
      }
      await this.handleInLanes(topic, partition, unit.items, finish, heartbeat, stopping);
      if (unit.items.some((item) => !outcomes[item.index]?.done)) break;
    }

    const firstNotDone = outcomes.findIndex((outcome) => !outcome?.done);
    const doneUpTo = firstNotDone === -1 ? messages.length : firstNotDone;
    const lastDone = messages[doneUpTo - 1];
    if (lastDone) {
      resolveOffset(lastDone.offset);
      this.commits?.resolved(topic, partition, lastDone.offset);
      for (const offset of done) if (BigInt(offset) <= BigInt(lastDone.offset)) done.delete(offset);
    }
    if ((this.state === 'stopped' || !isRunning()) && !isStale()) {
      // The consumer no longer commits once it is stopping; the batch's own commit still does.
      await this.commits?.flush((targets) => commitOffsetsIfNecessary(asOffsets(targets)));
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

  /**
   * Decodes the batch and groups it into units. Messages done already (ahead of a retry) and events
   * this consumer does not handle are left out, and do not interrupt a unit.
   */
  private unitsOf(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    contracts: EventContract[],
    done: ReadonlySet<string>,
  ): Unit[] {
    const units: Unit[] = [];
    const fetchedAt = Date.now();
    messages.forEach((message, index) => {
      if (done.has(message.offset) || !this.mayHandle(message, contracts)) return;
      const decoded = decodeEvent(message.value, contracts);
      if (decoded.kind === 'unhandled') return;
      if (decoded.kind === 'event') {
        const { replica } = this.options;
        const where = { topic, partition, offset: message.offset, replica, fetchedAt };
        attachDelivery(decoded.event, where);
      }
      const batch =
        decoded.kind === 'event' ? this.getHandlerByPattern(batchPattern(decoded.contract)) : null;
      const last = units.at(-1);
      const item = { index, message, decoded };
      if (last && batch && last.batch === batch) last.items.push(item);
      else if (last && !batch && !last.batch) last.items.push(item);
      else units.push({ batch, items: [item] });
    });
    return units;
  }

  private countFetched(units: Unit[]): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const perType = new Map<string, number>();
    for (const { items } of units) {
      for (const { decoded } of items) {
        if (decoded.kind === 'event') {
          perType.set(decoded.event.type, (perType.get(decoded.event.type) ?? 0) + 1);
        }
      }
    }
    for (const [eventType, count] of perType) metrics.fetched(eventType, count);
  }

  /**
   * False when the message's `event-type` header names a type no handler here takes: most of a
   * topic is other consumers' events, and the header spares parsing them. Without the header,
   * the body decides.
   */
  private mayHandle(message: KafkaMessage, contracts: EventContract[]): boolean {
    const type = message.headers?.[EventHeaders.eventType]?.toString();
    return type === undefined || contracts.some((contract) => contract.type === type);
  }

  /** One call of a batch handler with every event of the unit; false if it threw. */
  private async handleTogether(
    topic: string,
    partition: number,
    batch: MessageHandler,
    items: PendingMessage[],
  ): Promise<boolean> {
    const events = new Map<string, EventOf<EventContract>>();
    const spans: Array<{ eventId: string; span: Span }> = [];
    for (const { decoded, message } of items) {
      if (decoded.kind === 'event' && !events.has(decoded.event.eventId)) {
        events.set(decoded.event.eventId, decoded.event);
        spans.push({
          eventId: decoded.event.eventId,
          span: this.processSpan(topic, partition, message, decoded.event, 1),
        });
      }
    }
    const [first] = events.values();
    const timed = first && this.options.metrics?.handling(first.type);
    try {
      await withHandledEvents(spans, () => this.invoke(batch, [...events.values()]));
      for (const { span } of spans) endSpan(span);
      return true;
    } catch (error) {
      for (const { span } of spans) endSpan(span, error);
      const first = items[0]?.message.offset;
      this.log.warn(
        { err: error, topic, partition, offset: first, count: items.length },
        'batch handler failed; handling its events one at a time',
      );
      return false;
    } finally {
      timed?.();
    }
  }

  /** One key's messages in offset order, different keys side by side, until one must be retried. */
  private async handleInLanes(
    topic: string,
    partition: number,
    items: PendingMessage[],
    finish: (item: PendingMessage, outcome: Outcome) => void,
    heartbeat: () => Promise<void>,
    stopping: () => boolean,
  ): Promise<void> {
    const lanes = new Map<string, PendingMessage[]>();
    for (const item of items) {
      const key = item.message.key?.toString('latin1') ?? `offset:${item.message.offset}`;
      lanes.set(key, [...(lanes.get(key) ?? []), item]);
    }
    const waiting = [...lanes.values()];
    const runLanes = async (): Promise<void> => {
      for (let lane = waiting.shift(); lane; lane = waiting.shift()) {
        for (const item of lane) {
          if (stopping()) return;
          const outcome = await this.handleMessage(topic, partition, item);
          finish(item, outcome);
          if (!outcome.done) break;
          await heartbeat();
        }
      }
    };
    const workers = Math.min(this.concurrency, waiting.length);
    await Promise.all(Array.from({ length: workers }, runLanes));
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
    { message, decoded }: PendingMessage,
  ): Promise<Outcome> {
    const where = { topic, partition, offset: message.offset };
    if (decoded.kind === 'invalid') {
      const { eventId, eventType, message: problem } = decoded.error;
      this.log.error({ ...where, eventId, eventType }, `dead-lettering invalid event: ${problem}`);
      return this.deadLetter(message, { ...where, reason: 'invalid-event', error: problem }, 1);
    }
    const { event, contract } = decoded;
    const single = this.getHandlerByPattern(eventPattern(contract));
    const batch = this.getHandlerByPattern(batchPattern(contract));
    const context = {
      correlationId: event.correlationId,
      eventId: event.eventId,
      eventType: event.type,
    };
    return runWithLogContext(context, async (): Promise<Outcome> => {
      const key = `${topic}:${partition}:${message.offset}`;
      const timed = this.options.metrics?.handling(event.type);
      const attempt = (this.failures.get(key)?.attempts ?? 0) + 1;
      const span = this.processSpan(topic, partition, message, event, attempt);
      try {
        await withHandledEvents([{ eventId: event.eventId, span }], async () => {
          if (single) await this.invoke(single, event);
          else if (batch) await this.invoke(batch, [event]);
        });
        timed?.();
        endSpan(span);
        this.failures.delete(key);
        return { done: true };
      } catch (error) {
        timed?.();
        endSpan(span, error);
        const previous = this.failures.get(key);
        const history = {
          attempts: (previous?.attempts ?? 0) + 1,
          firstFailedAt: previous?.firstFailedAt ?? Date.now(),
        };
        const decision = decideOnFailure(this.retry, error, history);
        if (decision.action === 'retry') {
          this.failures.set(key, history);
          this.options.metrics?.retried(event.type);
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

  /** Handling one event, in the trace of the send that published it. */
  private processSpan(
    topic: string,
    partition: number,
    message: KafkaMessage,
    event: EventOf<EventContract>,
    attempt: number,
  ): Span {
    return startProcessSpan(
      topic,
      {
        'messaging.consumer.group.name': this.options.groupId,
        'messaging.destination.partition.id': String(partition),
        'messaging.kafka.offset': Number(message.offset),
        'messaging.message.id': event.eventId,
        'shop.event.type': event.type,
        'shop.attempt': attempt,
        'shop.replica': this.options.replica,
      },
      contextOfHeaders(message.headers),
    );
  }

  private async invoke(handler: MessageHandler, data: unknown): Promise<void> {
    await lastValueFrom(this.transformToObservable(await handler(data)), {
      defaultValue: undefined,
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
      const letter = toDeadLetter(message, {
        ...cause,
        attempts,
        consumerGroup: this.options.groupId,
        failedAt: new Date(),
      });
      await producer.sendBatch({
        acks: -1,
        topicMessages: [{ topic: deadLetterTopic(cause.topic), messages: [letter] }],
      });
      this.deadLettered += 1;
      this.options.metrics?.deadLettered(cause.topic, cause.reason);
      this.lastDeadLetter = {
        topic: cause.topic,
        reason: cause.reason,
        error: cause.error,
        at: new Date().toISOString(),
      };
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

function asOffsets(targets: CommitTarget[]): Offsets {
  const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of targets) {
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, offset }]);
  }
  return { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
}
