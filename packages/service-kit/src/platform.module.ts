import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, ModuleRef } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { Pool } from 'pg';
import type { Kafka } from 'kafkajs';
import type { Logger } from '@shop/logging';
import {
  createKafka,
  KafkaEventPublisher,
  KafkaEventServer,
  OutboxRelay,
  type RetryPolicy,
} from '@shop/messaging';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier } from './auth/token-verifier';
import { kafkaCredentials, type BaseConfig } from './config/config';
import { HealthController } from './health/health.controller';
import { InternalController, PUBLISHES_EVENTS } from './internal/internal.controller';
import { MetricsController } from './metrics/metrics.controller';
import { ServiceMetrics } from './metrics/service-metrics';
import { survivesDroppedConnections } from './pg-pool';
import { KAFKA, LOGGER, PG_POOL, SERVICE_CONFIG } from './tokens';
import { isTransientDatabaseError } from './transient-errors';

export interface PlatformOptions {
  config: BaseConfig;
  logger: Logger;
  /** Services that publish events run the outbox relay and a producer. */
  publishesEvents: boolean;
  /** How this service's consumer retries a failing handler before dead-lettering the event. */
  retry?: Partial<RetryPolicy>;
}

/** Closes what the platform opened, in dependency order, when Nest shuts down. */
class PlatformLifecycle implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly consumer: KafkaEventServer,
    private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const publisher = this.find(KafkaEventPublisher);
    const relay = this.find(OutboxRelay);
    await publisher?.connect();
    await relay?.start();
  }

  // First of all (this module is global, so its hook runs before the features'): stop consuming
  // while the database clients the handlers use are still open.
  async onModuleDestroy(): Promise<void> {
    await this.consumer.close();
  }

  async onApplicationShutdown(): Promise<void> {
    const relay = this.find(OutboxRelay);
    const publisher = this.find(KafkaEventPublisher);
    await relay?.stop();
    await this.metrics.close();
    await publisher?.disconnect();
    await this.pool.end();
  }

  private find<T>(type: new (...args: never[]) => T): T | undefined {
    try {
      return this.moduleRef.get(type, { strict: false });
    } catch {
      return undefined;
    }
  }
}

/**
 * What every service shares: typed config, logger, the Postgres pool (outbox relay, health),
 * Kafka, the consumer transport, the outbox relay for publishers, GET /health, and the guard
 * that asks every other HTTP route for an access token.
 */
@Module({})
export class PlatformModule {
  static forService(options: PlatformOptions): DynamicModule {
    const { config, logger } = options;
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: PUBLISHES_EVENTS, useValue: options.publishesEvents },
      { provide: LOGGER, useValue: logger },
      {
        provide: PG_POOL,
        useFactory: () => {
          // A bounded connect: /health must answer 503, not hang, when the database is unreachable.
          const pool = new Pool({
            connectionString: config.DATABASE_URL,
            max: POOL_MAX,
            connectionTimeoutMillis: 3_000,
          });
          survivesDroppedConnections(pool, (error) =>
            logger.warn({ err: error }, 'Postgres connection failed'),
          );
          return pool;
        },
      },
      {
        provide: KAFKA,
        useFactory: () =>
          createKafka(
            {
              brokers: config.KAFKA_BROKERS,
              clientId: config.KAFKA_CLIENT_ID,
              sasl: kafkaCredentials(config),
            },
            logger,
          ),
      },
      {
        provide: ServiceMetrics,
        inject: [PG_POOL, KAFKA],
        useFactory: (pool: Pool, kafka: Kafka) =>
          new ServiceMetrics({
            pool,
            poolMax: POOL_MAX,
            kafka,
            publishesEvents: options.publishesEvents,
            logger,
          }),
      },
      {
        provide: KafkaEventServer,
        inject: [KAFKA, ServiceMetrics],
        useFactory: (kafka: Kafka, metrics: ServiceMetrics) => {
          const server = new KafkaEventServer({
            kafka,
            groupId: config.KAFKA_GROUP_ID,
            replica: config.REPLICA_ID,
            logger,
            // A database restart is waited out, not dead-lettered; other errors use up attempts.
            retry: { isTransient: isTransientDatabaseError, ...options.retry },
            metrics: metrics.messaging,
            commitIntervalMs: config.KAFKA_COMMIT_INTERVAL_MS,
          });
          metrics.reportLagOf(config.KAFKA_GROUP_ID, () => server.subscribedTopics());
          return server;
        },
      },
      PlatformLifecycle,
      {
        provide: TokenVerifier,
        useFactory: () =>
          new TokenVerifier({
            issuer: config.AUTH_ISSUER_URL,
            audience: config.AUTH_AUDIENCE,
            jwksUrl: config.AUTH_JWKS_URL ?? `${config.AUTH_ISSUER_URL.replace(/\/$/, '')}/jwks`,
          }),
      },
      // In this order: a flood of writes is limited before any token is checked.
      { provide: APP_GUARD, useClass: ThrottlerGuard },
      { provide: APP_GUARD, useClass: AuthGuard },
    ];
    const exported: Array<symbol | Provider> = [
      SERVICE_CONFIG,
      LOGGER,
      PG_POOL,
      KAFKA,
      KafkaEventServer,
      ServiceMetrics,
    ];
    if (options.publishesEvents) {
      providers.push(
        {
          provide: KafkaEventPublisher,
          inject: [KAFKA],
          useFactory: (kafka: Kafka) => new KafkaEventPublisher(kafka),
        },
        {
          provide: OutboxRelay,
          inject: [PG_POOL, KafkaEventPublisher, ServiceMetrics],
          useFactory: (pool: Pool, publisher: KafkaEventPublisher, metrics: ServiceMetrics) =>
            new OutboxRelay({
              pool,
              publisher,
              logger,
              replica: config.REPLICA_ID,
              metrics: metrics.messaging,
            }),
        },
      );
      exported.push(KafkaEventPublisher, OutboxRelay);
    }
    return {
      module: PlatformModule,
      global: true,
      imports: [writeLimits(config)],
      controllers: [HealthController, InternalController, MetricsController],
      providers,
      exports: exported as DynamicModule['exports'],
    };
  }
}

/** Two are held for good: the relay's LISTEN and its leading session. */
const POOL_MAX = 6;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Writes (POST, PUT, DELETE...) per client address and minute; reads are not limited. A 429
 * answer carries Retry-After. 0 turns the limit off (a load test speaking for many clients).
 */
function writeLimits(config: BaseConfig): DynamicModule {
  const limit = config.HTTP_WRITES_PER_MINUTE;
  return ThrottlerModule.forRoot({
    // Unnamed: a named throttler suffixes its headers (Retry-After-writes), which clients ignore.
    throttlers: [{ ttl: 60_000, limit: limit === 0 ? Number.MAX_SAFE_INTEGER : limit }],
    skipIf: (context) =>
      limit === 0 ||
      context.getType() !== 'http' ||
      SAFE_METHODS.has(context.switchToHttp().getRequest<{ method: string }>().method),
  });
}
