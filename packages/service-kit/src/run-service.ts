import type { Server } from 'node:http';
import type { DynamicModule } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { z } from 'zod';
import { applyMigrations, serviceDatabase, type ServiceName } from '@shop/database';
import { topicsOf } from '@shop/kafka-access';
import { createLogger, runWithLogContext, type Logger } from '@shop/logging';
import { createKafka, KafkaEventServer, requireTopics } from '@shop/messaging';
import { stopTracing } from '@shop/telemetry';
import {
  kafkaCredentials,
  loadConfig,
  migrationDatabaseUrl,
  type BaseConfig,
} from './config/config';
import { createHttpApplication } from './http/http-application';
import { ServiceMetrics } from './metrics/service-metrics';

export interface ServiceDefinition<S extends z.ZodType<BaseConfig>> {
  name: ServiceName;
  configSchema: S;
  migrationsDir: string;
  module: (config: z.output<S>, logger: Logger) => DynamicModule;
  openApi?: { title: string; description: string };
}

export interface RunningService<C> {
  app: NestExpressApplication;
  config: C;
  logger: Logger;
  url: string;
  /** The graceful stop that SIGTERM runs; see stopGracefully. */
  stop(): Promise<void>;
}

/**
 * Boots one service: config (validated once), migrations, a check that its topics exist, then HTTP and the Kafka
 * consumer in one hybrid Nest app. The same path runs in the local stack, in Docker and in tests.
 */
export async function runService<S extends z.ZodType<BaseConfig>>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService<z.output<S>>> {
  const config = loadConfig(definition.configSchema, env);
  const logger = createLogger({
    service: definition.name,
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
  });

  if (config.MIGRATE_ON_START) {
    await applyMigrations({
      databaseUrl: migrationDatabaseUrl(config),
      schema: serviceDatabase(definition.name).schema,
      migrationsDir: definition.migrationsDir,
      logger,
    });
  }
  const kafka = createKafka(
    {
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-admin`,
      sasl: kafkaCredentials(config),
    },
    logger,
  );
  await requireTopics(kafka, topicsOf(definition.name), config.KAFKA_SASL_USERNAME);

  const app = await createHttpApplication(
    definition.module(config, logger),
    logger,
    { requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS },
    (created) => created.get(ServiceMetrics).httpMiddleware(),
  );
  app.use((request: { headers: Record<string, unknown> }, _response: unknown, next: () => void) => {
    const header = request.headers['x-correlation-id'];
    runWithLogContext(typeof header === 'string' ? { correlationId: header } : {}, next);
  });
  if (definition.openApi && config.API_DOCS) serveApiDocument(app, definition.openApi);
  // inheritAppConfig: the HTTP filter rethrows a handler's error untouched, so the transport logs
  // it once and retries; Nest's default RPC filter would log it again on every attempt.
  app.connectMicroservice({ strategy: app.get(KafkaEventServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.PORT);
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  logger.info({ url }, `${definition.name} listening`);
  return { app, config, logger, url, stop: () => stopGracefully(app, logger) };
}

/** The OpenAPI document at /docs/openapi.json and Swagger UI at /docs. */
export function serveApiDocument(
  app: NestExpressApplication,
  about: { title: string; description: string },
): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(about.title)
      .setDescription(about.description)
      .setVersion('1.0')
      // "Authorize" takes an access token, e.g. from `pnpm token customer`.
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
}

/** How long in-flight HTTP requests get to finish once the listener is closed. */
const HTTP_DRAIN_MS = 5_000;

/**
 * The order of a graceful stop, each step relying on the next still being open:
 * 1. close the HTTP listener and let in-flight requests finish (new connections are refused);
 * 2. Nest's close: the consumer finishes the message it is handling and leaves its group, so its
 *    partitions move to the other replicas at once (PlatformLifecycle.onModuleDestroy);
 * 3. the outbox relay publishes what is committed, then the producer and pools close
 *    (PlatformLifecycle.onApplicationShutdown).
 */
async function stopGracefully(app: NestExpressApplication, logger: Logger): Promise<void> {
  const server = app.getHttpServer() as Server;
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  const forced = setTimeout(() => server.closeAllConnections(), HTTP_DRAIN_MS);
  await drained;
  clearTimeout(forced);
  logger.info('HTTP closed; stopping the consumer, flushing the outbox');
  await app.close();
  await stopTracing();
}

/**
 * The entry point of a service's main.ts: a bad config or failed start exits 1 with the reason;
 * SIGTERM or SIGINT stop it gracefully, within SHUTDOWN_TIMEOUT_MS or by force (exit 1).
 */
export function startService<S extends z.ZodType<BaseConfig>>(
  definition: ServiceDefinition<S>,
): void {
  runService(definition).then(
    (running) => {
      const onSignal = (signal: NodeJS.Signals) => {
        running.logger.info({ signal }, `${definition.name} stopping`);
        setTimeout(() => {
          running.logger.error(
            { timeoutMs: running.config.SHUTDOWN_TIMEOUT_MS },
            'graceful stop took too long; exiting anyway',
          );
          process.exit(1);
        }, running.config.SHUTDOWN_TIMEOUT_MS).unref();
        running.stop().then(
          () => {
            running.logger.info(`${definition.name} stopped`);
            process.exit(0);
          },
          (error: unknown) => {
            running.logger.error({ err: error }, 'graceful stop failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    },
    (error: unknown) => {
      process.stderr.write(`${definition.name} failed to start: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
