import type { Admin, Kafka } from 'kafkajs';
import type { NextFunction, Request, Response } from 'express';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '@shop/logging';
import { MessagingMetrics } from '@shop/messaging';
import { InternalFactsRepository } from '../internal/internal-facts.repository';

/** A scrape never waits longer than this for Kafka or Postgres; what did not answer is left out. */
const SCRAPE_QUERY_TIMEOUT_MS = 2_000;
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface ServiceMetricsOptions {
  pool: Pool;
  poolMax: number;
  kafka: Kafka;
  /** Publishers have an outbox whose backlog is reported. */
  publishesEvents: boolean;
  logger: Logger;
}

/**
 * One process's Prometheus registry: Node's own series, the messaging layer's, HTTP request
 * durations, and figures read at scrape time (outbox backlog, consumer lag, pool use).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly messaging: MessagingMetrics;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private admin: Admin | undefined;
  private consumer: { groupId: string; topics: () => string[] } | undefined;

  constructor(private readonly options: ServiceMetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.messaging = new MessagingMetrics(this.registry);
    this.httpDuration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'HTTP requests from arrival to the end of the answer, by route template.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.poolGauges(registers);
    this.lagGauge(registers);
    if (options.publishesEvents) this.outboxGauges(registers);
  }

  /** Reports the lag of this group on the topics its consumer reads. */
  reportLagOf(groupId: string, topics: () => string[]): void {
    this.consumer = { groupId, topics };
  }

  /** Express middleware timing every request; the route is the template, never the raw path. */
  httpMiddleware(): (request: Request, response: Response, next: NextFunction) => void {
    return (request, response, next) => {
      const started = process.hrtime.bigint();
      response.once('finish', () => {
        const route: unknown = (request as Request & { route?: { path?: unknown } }).route?.path;
        this.httpDuration.observe(
          {
            method: KNOWN_METHODS.has(request.method) ? request.method : 'OTHER',
            route: typeof route === 'string' ? route : 'unmatched',
            status_code: String(response.statusCode),
          },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
      });
      next();
    };
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }

  private poolGauges(registers: Registry[]): void {
    const { pool, poolMax } = this.options;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Postgres connections of this process by state (in_use counts held ones, e.g. LISTEN).',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
      },
    });
    new Gauge({
      name: 'db_pool_max_connections',
      help: 'The most connections the pool opens.',
      registers,
      collect() {
        this.set(poolMax);
      },
    });
    new Gauge({
      name: 'db_pool_waiting_requests',
      help: 'Queries waiting for a free connection.',
      registers,
      collect() {
        this.set(pool.waitingCount);
      },
    });
  }

  private outboxGauges(registers: Registry[]): void {
    const facts = new InternalFactsRepository(this.options.pool);
    const read = () => this.bounded(facts.outboxFigures(), 'outbox backlog');
    new Gauge({
      name: 'outbox_backlog_events',
      help: 'Outbox rows committed and not yet published.',
      registers,
      async collect() {
        this.reset();
        const outbox = await read();
        if (outbox) this.set(outbox.backlog);
      },
    });
    new Gauge({
      name: 'outbox_oldest_unsent_age_seconds',
      help: 'Age of the oldest unpublished outbox row; 0 when none waits.',
      registers,
      async collect() {
        this.reset();
        const outbox = await read();
        if (outbox) this.set((outbox.oldestUnsentAgeMs ?? 0) / 1_000);
      },
    });
  }

  private lagGauge(registers: Registry[]): void {
    const lagOf = () => this.bounded(this.consumerLag(), 'consumer lag');
    new Gauge({
      name: 'kafka_consumer_lag_messages',
      help: "Records on a partition past this service's group's committed offset.",
      labelNames: ['topic', 'partition'],
      registers,
      async collect() {
        this.reset();
        for (const { topic, partition, lag } of (await lagOf()) ?? []) {
          this.set({ topic, partition: String(partition) }, lag);
        }
      },
    });
  }

  private async consumerLag(): Promise<Array<{ topic: string; partition: number; lag: number }>> {
    const consumer = this.consumer;
    const topics = consumer?.topics() ?? [];
    if (!consumer || topics.length === 0) return [];
    const admin = await this.connectedAdmin();
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: consumer.groupId, topics }),
      Promise.all(
        topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })),
      ),
    ]);
    return ends.flatMap(({ topic, offsets }) =>
      offsets.map(({ partition, high, low }) => {
        const offset = committed
          .find((entry) => entry.topic === topic)
          ?.partitions.find((entry) => entry.partition === partition)?.offset;
        // A group that never committed on a partition reads it from its start.
        const from = offset === undefined || offset === '-1' ? low : offset;
        return { topic, partition, lag: Math.max(0, Number(BigInt(high) - BigInt(from))) };
      }),
    );
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.options.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  /** The figure, or null (logged at debug) when its source fails or is slow: a scrape still answers. */
  private async bounded<T>(work: Promise<T>, what: string): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), SCRAPE_QUERY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      this.options.logger.debug({ err: error }, `metrics: ${what} not available`);
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
