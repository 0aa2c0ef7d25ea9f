import { Counter, Histogram, type Registry } from 'prom-client';

/** Fast hops are a few milliseconds; a retried or backlogged one takes seconds. */
const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500];

/** How a relay found the rows it published: handed over at commit, or by reading the table. */
export type RelayPath = 'hand-over' | 'scan';

/**
 * The messaging layer's Prometheus series, registered on the process's registry. Labels name
 * event types, topics and reasons, never order or event ids, so their number stays bounded.
 */
export class MessagingMetrics {
  private readonly relayLatency: Histogram<'topic' | 'path'>;
  private readonly handlerDuration: Histogram<'event_type'>;
  private readonly batchSize: Histogram<'event_type'>;
  private readonly retries: Counter<'event_type'>;
  private readonly deadLetters: Counter<'topic' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.relayLatency = new Histogram({
      name: 'outbox_relay_publish_latency_seconds',
      help: 'From the event occurring (its outbox row committing) to the broker acknowledging it.',
      labelNames: ['topic', 'path'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.handlerDuration = new Histogram({
      name: 'kafka_consumer_handler_duration_seconds',
      help: 'Time a handler took for one event, or for one call of a batch handler.',
      labelNames: ['event_type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'kafka_consumer_batch_size',
      help: 'Events of one type this consumer handles from one fetched partition batch.',
      labelNames: ['event_type'],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'kafka_consumer_retries_total',
      help: 'Failed handler attempts that will be tried again after a backoff.',
      labelNames: ['event_type'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'kafka_consumer_dead_letters_total',
      help: 'Messages this consumer sent to the dead-letter topic beside their source topic.',
      labelNames: ['topic', 'reason'],
      registers,
    });
  }

  published(topic: string, path: RelayPath, occurredAt: string): void {
    const seconds = (Date.now() - Date.parse(occurredAt)) / 1_000;
    if (Number.isFinite(seconds)) this.relayLatency.observe({ topic, path }, Math.max(0, seconds));
  }

  /** Starts timing a handler call; the returned function records it. */
  handling(eventType: string): () => void {
    return this.handlerDuration.startTimer({ event_type: eventType });
  }

  fetched(eventType: string, count: number): void {
    this.batchSize.observe({ event_type: eventType }, count);
  }

  retried(eventType: string): void {
    this.retries.inc({ event_type: eventType });
  }

  deadLettered(topic: string, reason: string): void {
    this.deadLetters.inc({ topic, reason });
  }
}
