import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';
import { ALL_TOPICS, Topics } from '@shop/contracts';
import {
  bootstrapDatabase,
  dropDatabase,
  serviceDatabaseEnv,
  type ServiceName,
} from '@shop/database';
import {
  ensureTopics,
  findRepoRoot,
  freePort,
  KAFKA_VERSION,
  resetTopics,
  spawnService,
  startKafka,
  startPostgres,
  startSpanCollector,
  type RunningKafka,
  type AppName,
  type RunningPostgres,
  type ServiceProcess,
  devstackKafkaEnv,
  issueToken,
  newSigningKeyJwk,
  seededClientSecret,
  startIdentityProvider,
} from '@shop/devstack';
import type { ConsumerGroup } from './consumer-lag';
import { builtScript, startEmailSink, type EmailSink } from './email-sink';
import { parentPid, type ProcessTarget } from './resources';

export interface EnvironmentOptions {
  /** Use this broker instead of starting one; its order and inventory topics are recreated empty. */
  kafkaBrokers?: string;
  /** Its pid, when known, so its CPU and memory are reported. */
  kafkaPid?: number;
  /** A superuser URL of a running Postgres; the bench creates (and drops) its own database there. */
  adminDatabaseUrl?: string;
  /** fsync and synchronous commit on (like `pnpm stack`); off only to see what durability costs. */
  durable: boolean;
  /** Products the orders are spread over, each with ample stock. */
  products: number;
  /** Profiles the services' CPU (see profiled-main.ts); profiles are written there when they stop. */
  cpuProfileDir?: string;
  /** Loads pg_stat_statements (only into a Postgres the bench started itself). */
  pgStatStatements: boolean;
  /** Runs the flow console as well, with one map page's live stream open, to measure its cost. */
  withConsole: boolean;
  /** Services trace every order (Zipkin JSON to a sink in the bench process that only counts). */
  tracing: boolean;
  /** Logs of Kafka, Postgres and the services go here. */
  workDir: string;
  say: (line: string) => void;
}

export interface MailSettings {
  smtpDelayMs: number;
  /** MAIL_CONCURRENCY of the notification service; undefined = the service's default. */
  mailConcurrency: number | undefined;
}

export interface BenchEnvironment {
  orderUrl: string;
  /** A fresh `Authorization` of a seeded customer: a step takes one and sends it with every order. */
  customerAuthorization(): Promise<string>;
  brokers: string;
  /** Superuser connection to the bench database (reads every service's schema). */
  databaseUrl: string;
  skus: string[];
  versions: { kafka: string; postgres: string };
  settings: {
    durable: boolean;
    ownKafka: boolean;
    ownPostgres: boolean;
    pgStatStatements: boolean;
    tracing: boolean;
  };
  /** Spans the services exported so far; 0 without tracing. */
  spansExported(): number;
  mail(): MailSettings;
  emails(): EmailSink;
  consumerGroups(): ConsumerGroup[];
  processes(): ProcessTarget[];
  /**
   * Restarts the notification service against an SMTP sink with these settings, if they differ;
   * true if it did.
   */
  configureMail(settings: MailSettings): Promise<boolean>;
  /** With cpuProfileDir: the services' CPU profiles start now (they are written when they stop). */
  startProfiling(): void;
  stop(): Promise<void>;
}

const DATABASE = 'bench';
const PRODUCT_STOCK = 1_000_000_000;
const SERVICES: readonly ServiceName[] = [
  'order-service',
  'inventory-service',
  'notification-service',
];
const CONSUMED_TOPICS: Record<ServiceName, string[]> = {
  'order-service': [Topics.inventoryEvents],
  'inventory-service': [Topics.orderEvents],
  'notification-service': [Topics.orderEvents],
};

/**
 * The system under test, started for the bench alone: Kafka and Postgres (unless given), a fresh
 * database, the three services from their built dist/ logging as deployed (info, JSON), an SMTP sink in its own
 * process as the notification service's mail server, and products with ample stock.
 *
 * A Kafka or Postgres already running for `pnpm stack` is not reused by default: that stack's
 * services consume the same topics (they would take part in the benchmark) and its topics hold
 * older events that fresh consumer groups would replay.
 */
export async function startBenchEnvironment(
  options: EnvironmentOptions,
): Promise<BenchEnvironment> {
  const logs: WriteStream[] = [];
  const logTo = (file: string): ((line: string) => void) => {
    const stream = createWriteStream(join(options.workDir, file), { flags: 'a' });
    logs.push(stream);
    return (line) => stream.write(`${line}\n`);
  };
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
    await Promise.all(logs.map((stream) => new Promise((resolve) => stream.end(resolve))));
  };

  try {
    const [startingKafka, startingPostgres] = await Promise.allSettled([
      options.kafkaBrokers ? undefined : ownKafka(options, logTo('kafka.log')),
      options.adminDatabaseUrl ? undefined : ownPostgres(options, logTo('postgres.log')),
    ]);
    // Whichever started is stopped again, even when the other failed.
    const kafka = startingKafka.status === 'fulfilled' ? startingKafka.value : undefined;
    const postgres = startingPostgres.status === 'fulfilled' ? startingPostgres.value : undefined;
    if (kafka) cleanups.push(() => kafka.stop());
    if (postgres) cleanups.push(() => postgres.stop());
    if (startingKafka.status === 'rejected') throw startingKafka.reason;
    if (startingPostgres.status === 'rejected') throw startingPostgres.reason;
    const brokers = kafka?.brokers ?? (options.kafkaBrokers as string);
    const serverUrl = postgres?.adminUrl ?? (options.adminDatabaseUrl as string);
    const ownPg = postgres !== undefined;
    const pgStatStatements = options.pgStatStatements && ownPg;
    if (pgStatStatements && postgres) await loadPgStatStatements(postgres);

    const database = ownPg ? DATABASE : `${DATABASE}_${randomUUID().slice(0, 8)}`;
    await bootstrapDatabase(serverUrl, database);
    if (!ownPg) cleanups.push(() => dropDatabase(serverUrl, database));
    const databaseUrl = withDatabase(serverUrl, database);
    if (pgStatStatements)
      await execute(databaseUrl, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    // The topics exist before the services start (they would race each other creating them); a
    // broker the bench did not start gets them recreated empty, so new groups replay nothing old.
    if (kafka) await ensureTopics(brokers, ALL_TOPICS);
    else await resetTopics(brokers, ALL_TOPICS);
    const postgresVersion = await queryOne(databaseUrl, 'SHOW server_version');
    const postmasterPid = await findPostmaster(databaseUrl);

    const idp = await startIdentityProvider({
      port: await freePort(),
      signingKeyJwk: await newSigningKeyJwk(),
      log: logTo('identity-provider.log'),
    });
    cleanups.push(() => idp.stop());

    const spanSink = options.tracing ? await startSpanCollector({ keep: false }) : undefined;
    if (spanSink) cleanups.push(() => spanSink.stop());

    const run = randomUUID().slice(0, 8);
    let profiling = false;
    const groupId = (name: ServiceName): string => `${name}-bench-${run}`;
    const serviceEnv = (name: ServiceName): Record<string, string> => ({
      ...serviceDatabaseEnv(serverUrl, name, database),
      KAFKA_BROKERS: brokers,
      ...devstackKafkaEnv(name),
      KAFKA_GROUP_ID: groupId(name),
      AUTH_ISSUER_URL: idp.issuerUrl,
      // The load generator stands for many clients; one address would hit the write limit.
      HTTP_WRITES_PER_MINUTE: '0',
      // As deployed: info-level JSON lines (to the step's log files), not a quieter setting.
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...(spanSink
        ? { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: spanSink.url }
        : {}),
      ...(options.cpuProfileDir
        ? {
            BENCH_PROFILE_MAIN: join(findRepoRoot(), 'apps', name, 'dist', 'main.js'),
            BENCH_PROFILE_DIR: join(options.cpuProfileDir, name),
          }
        : {}),
    });
    const start = async (name: ServiceName, extra: Record<string, string> = {}) => {
      if (options.cpuProfileDir)
        await mkdir(join(options.cpuProfileDir, name), { recursive: true });
      const service = await spawnService({
        name,
        port: await freePort(),
        log: logTo(`${name}.log`),
        env: { ...serviceEnv(name), ...extra },
        ...(options.cpuProfileDir ? { entry: builtScript('profiled-main.js') } : {}),
      });
      if (profiling) process.kill(service.pid, 'SIGUSR2');
      return service;
    };
    const mailEnv = (settings: MailSettings, sink: EmailSink): Record<string, string> => ({
      SMTP_URL: sink.url,
      ...(settings.mailConcurrency ? { MAIL_CONCURRENCY: String(settings.mailConcurrency) } : {}),
    });

    let mail: MailSettings = { smtpDelayMs: 0, mailConcurrency: undefined };
    let sink = await startEmailSink(mail.smtpDelayMs);
    cleanups.push(() => sink.stop());
    options.say('starting the three services');
    const services = new Map<AppName, ServiceProcess>();
    // Stopped before the sink and the infrastructure (cleanups run in reverse).
    cleanups.push(async () => {
      await Promise.allSettled([...services.values()].map((service) => service.stop()));
    });
    // The order service first: every service also creates topics of its own (dead letters) at
    // start, and on a new broker concurrent creations of one topic fail.
    const [first, ...others] = SERVICES;
    const started = [await start(first as ServiceName)];
    started.push(
      ...(await Promise.all(
        others.map((name) =>
          start(name, name === 'notification-service' ? mailEnv(mail, sink) : {}),
        ),
      )),
    );
    for (const service of started) services.set(service.name, service);

    const inventory = services.get('inventory-service') as ServiceProcess;
    const admin = `Bearer ${await issueToken(idp.issuerUrl, 'admin')}`;
    const skus = await seedProducts(inventory.baseUrl, options.products, admin);
    if (options.withConsole) {
      const observer = await startConsole(
        services,
        brokers,
        idp.issuerUrl,
        logTo('flow-console.log'),
      );
      services.set('flow-console', observer);
      const page = watchMapPage(observer.baseUrl);
      cleanups.push(async () => page.abort());
    }

    const environment: BenchEnvironment = {
      orderUrl: `${(services.get('order-service') as ServiceProcess).baseUrl}/orders`,
      customerAuthorization: async () => `Bearer ${await issueToken(idp.issuerUrl, 'ada')}`,
      brokers,
      databaseUrl,
      skus,
      versions: { kafka: KAFKA_VERSION, postgres: postgresVersion },
      settings: {
        durable: options.durable,
        ownKafka: !!kafka,
        ownPostgres: ownPg,
        pgStatStatements,
        tracing: options.tracing,
      },
      spansExported: () => spanSink?.count() ?? 0,
      mail: () => mail,
      emails: () => sink,
      consumerGroups: () =>
        SERVICES.map((name) => ({ name, groupId: groupId(name), topics: CONSUMED_TOPICS[name] })),
      processes: () => [
        ...[...services.values()].map((service) => ({ name: service.name, pid: service.pid })),
        ...(kafka || options.kafkaPid
          ? [{ name: 'kafka', pid: kafka?.pid ?? (options.kafkaPid as number) }]
          : []),
        ...(postmasterPid ? [{ name: 'postgres', pid: postmasterPid, withChildren: true }] : []),
        { name: 'smtp-sink', pid: sink.pid },
        { name: 'load-generator', pid: process.pid },
      ],
      configureMail: async (settings) => {
        if (
          settings.smtpDelayMs === mail.smtpDelayMs &&
          settings.mailConcurrency === mail.mailConcurrency
        )
          return false;
        options.say(
          `restarting notification-service: SMTP answering after ${settings.smtpDelayMs} ms, ` +
            `MAIL_CONCURRENCY=${settings.mailConcurrency ?? 'default'}`,
        );
        const old = services.get('notification-service') as ServiceProcess;
        await old.stop();
        const oldSink = sink;
        sink = await startEmailSink(settings.smtpDelayMs);
        await oldSink.stop();
        mail = settings;
        services.set(
          'notification-service',
          await start('notification-service', mailEnv(mail, sink)),
        );
        return true;
      },
      startProfiling: () => {
        if (!options.cpuProfileDir || profiling) return;
        profiling = true;
        for (const name of SERVICES)
          process.kill((services.get(name) as ServiceProcess).pid, 'SIGUSR2');
      },
      stop: stopAll,
    };
    return environment;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** The flow console in a group of its own, reading every replica's internal endpoints. */
async function startConsole(
  services: ReadonlyMap<AppName, ServiceProcess>,
  brokers: string,
  issuerUrl: string,
  log: (line: string) => void,
): Promise<ServiceProcess> {
  const url = (name: ServiceName) => (services.get(name) as ServiceProcess).baseUrl;
  return spawnService({
    name: 'flow-console',
    port: await freePort(),
    log,
    env: {
      KAFKA_BROKERS: brokers,
      ...devstackKafkaEnv('flow-console'),
      KAFKA_GROUP_ID: `flow-console-bench-${randomUUID().slice(0, 8)}`,
      ORDER_SERVICE_URLS: url('order-service'),
      INVENTORY_SERVICE_URLS: url('inventory-service'),
      NOTIFICATION_SERVICE_URLS: url('notification-service'),
      AUTH_ISSUER_URL: issuerUrl,
      AUTH_CLIENT_SECRET: seededClientSecret('flow-console'),
      LOG_LEVEL: 'warn',
    },
  });
}

/** What one open map page costs the console: its live stream, read and thrown away. */
function watchMapPage(consoleUrl: string): AbortController {
  const page = new AbortController();
  void fetch(`${consoleUrl}/api/overview/stream`, { signal: page.signal })
    .then(async (response) => {
      for await (const _chunk of response.body ?? []) {
        // The bytes are the page's business; only the console's work to send them is measured.
      }
    })
    .catch(() => undefined);
  return page;
}

async function ownKafka(
  options: EnvironmentOptions,
  log: (line: string) => void,
): Promise<RunningKafka> {
  options.say('starting Kafka');
  return startKafka({
    port: await freePort(),
    controllerPort: await freePort(),
    dataDir: join(options.workDir, 'kafka'),
    fresh: true,
    log,
  });
}

async function ownPostgres(
  options: EnvironmentOptions,
  log: (line: string) => void,
): Promise<RunningPostgres> {
  options.say(`starting Postgres (${options.durable ? 'durable: fsync on' : 'fsync off'})`);
  return startPostgres({
    port: await freePort(),
    dataDir: join(options.workDir, 'postgres'),
    fresh: true,
    durable: options.durable,
    log,
  });
}

/** pg_stat_statements must be preloaded: set it, then restart the server the bench owns. */
async function loadPgStatStatements(postgres: RunningPostgres): Promise<void> {
  await execute(
    postgres.adminUrl,
    `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`,
  );
  await postgres.restart();
}

/** As the seeded admin: only an admin sets products and stock. */
async function seedProducts(
  inventoryUrl: string,
  count: number,
  authorization: string,
): Promise<string[]> {
  const skus = Array.from(
    { length: count },
    (_, index) => `BENCH-${String(index + 1).padStart(3, '0')}`,
  );
  for (const sku of skus) {
    const response = await fetch(`${inventoryUrl}/products/${sku}`, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Bench product ${sku}`, stock: PRODUCT_STOCK }),
    });
    if (!response.ok) {
      throw new Error(`seeding ${sku} failed: ${response.status} ${await response.text()}`);
    }
  }
  return skus;
}

/** The postmaster is the parent of our own backend (read while it lives): its tree is all of Postgres. */
async function findPostmaster(databaseUrl: string): Promise<number | undefined> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const postmaster = await parentPid(rows[0]?.pid ?? -1);
    // A Postgres on another host (or in a container) has pids that mean nothing here.
    const name = postmaster
      ? await readFile(`/proc/${postmaster}/comm`, 'utf8').catch(() => '')
      : '';
    return name.trim() === 'postgres' ? postmaster : undefined;
  } finally {
    await client.end();
  }
}

async function queryOne(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, unknown>>(sql);
    return String(Object.values(rows[0] ?? {})[0] ?? '');
  } finally {
    await client.end();
  }
}

async function execute(url: string, sql: string): Promise<void> {
  await queryOne(url, sql);
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
