#!/usr/bin/env node
/**
 * `pnpm stack`: the whole system in the foreground with real Kafka, Postgres, MailDev and an
 * OpenID Connect provider.
 * `--replicas inventory-service=2,notification-service=2` (or STACK_REPLICAS) runs several
 * instances of a service in one consumer group. `--zipkin` (or STACK_ZIPKIN=true) also runs
 * Zipkin and traces every order into it. Ctrl-C stops the services first, then the infrastructure.
 */
import { parseArgs } from 'node:util';
import { bootstrapDatabase, serviceDatabaseEnv } from '@shop/database';
import {
  issueToken,
  seededClientSecret,
  startIdentityProvider,
  type RunningIdentityProvider,
} from '../identity-provider';
import { devstackKafkaEnv, devstackKafkaSasl, startKafka, type RunningKafka } from '../kafka';
import { startMaildev, type RunningMaildev } from '../maildev';
import { startPostgres, type RunningPostgres } from '../postgres';
import { spawnService, type ServiceName, type ServiceProcess } from '../service-process';
import { assertPortFree } from '../wait';
import { startZipkin, type RunningZipkin } from '../zipkin';

const DATABASE = 'shop';

const COLOURS = {
  kafka: 35,
  postgres: 34,
  mail: 33,
  zipkin: 90,
  idp: 91,
  order: 36,
  inventory: 32,
  notification: 93,
  console: 94,
  stack: 1,
} as const;
type Source = keyof typeof COLOURS;

const useColour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
// Room for a replica index: [notification#2]
const PREFIX_WIDTH = Math.max(...Object.keys(COLOURS).map((name) => name.length)) + 4;

function logger(source: Source, replica?: number): (line: string) => void {
  const label = `[${source}${replica === undefined ? '' : `#${replica}`}]`.padEnd(PREFIX_WIDTH);
  const prefix = useColour ? `\u001b[${COLOURS[source]}m${label}\u001b[0m` : label;
  return (line) => process.stdout.write(`${prefix} ${line}\n`);
}

const say = logger('stack');

function loud(message: string): void {
  const text = `!!! ${message} !!!`;
  console.error(useColour ? `\u001b[1;41;97m${text}\u001b[0m` : text);
}

function envPort(name: string, fallback: number): number {
  const value = process.env[name];
  if (!value) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535)
    throw new Error(`${name}=${value} is not a port`);
  return port;
}

interface ServiceSpec {
  name: ServiceName;
  source: Source;
  /** 1-based; shown in log prefixes when the service runs more than one replica. */
  replica: number;
  replicas: number;
  port: number;
  extraEnv: Record<string, string>;
}

interface Stack {
  kafka?: RunningKafka;
  postgres?: RunningPostgres;
  maildev?: RunningMaildev;
  zipkin?: RunningZipkin;
  idp?: RunningIdentityProvider;
  services: ServiceProcess[];
  stopping: boolean;
}

const ports = {
  kafka: envPort('KAFKA_PORT', 9092),
  kafkaController: envPort('KAFKA_CONTROLLER_PORT', 9093),
  postgres: envPort('POSTGRES_PORT', 54329),
  mailSmtp: envPort('MAILDEV_SMTP_PORT', 1025),
  mailWeb: envPort('MAILDEV_WEB_PORT', 1080),
  idp: envPort('IDP_PORT', 4000),
  order: envPort('ORDER_PORT', 3000),
  inventory: envPort('INVENTORY_PORT', 3001),
  notification: envPort('NOTIFICATION_PORT', 3002),
  console: envPort('FLOW_CONSOLE_PORT', 3100),
  zipkin: envPort('ZIPKIN_PORT', 9411),
};

const SERVICES = [
  { name: 'order-service', source: 'order', port: ports.order },
  { name: 'inventory-service', source: 'inventory', port: ports.inventory },
  { name: 'notification-service', source: 'notification', port: ports.notification },
] as const satisfies ReadonlyArray<{ name: ServiceName; source: Source; port: number }>;

type ReplicaCounts = Record<ServiceName, number>;

const MAX_REPLICAS = 9;

/**
 * `inventory-service=2,notification=2` from `--replicas` or STACK_REPLICAS (the flag wins); a
 * service may be named with or without its `-service` suffix. Unnamed services run once.
 */
function replicaCounts(flag: string | undefined, env: NodeJS.ProcessEnv): ReplicaCounts {
  const counts: ReplicaCounts = {
    'order-service': 1,
    'inventory-service': 1,
    'notification-service': 1,
  };
  const setting = flag ?? env.STACK_REPLICAS ?? '';
  for (const entry of setting.split(',').map((part) => part.trim())) {
    if (!entry) continue;
    const [rawName, rawCount, ...rest] = entry.split('=');
    const service = SERVICES.find((known) => known.name === rawName || known.source === rawName);
    const count = Number(rawCount);
    const valid = Number.isInteger(count) && count >= 1 && count <= MAX_REPLICAS;
    if (!service || !valid || rest.length > 0) {
      const names = SERVICES.map((known) => known.name).join(', ');
      throw new Error(
        `bad replica setting "${entry}": expected <service>=<1..${MAX_REPLICAS}>, service one of ${names}`,
      );
    }
    counts[service.name] = count;
  }
  return counts;
}

interface StackOptions {
  counts: ReplicaCounts;
  zipkin: boolean;
}

function stackOptions(argv: string[], env: NodeJS.ProcessEnv): StackOptions {
  const usage = 'usage: stack [--replicas <service>=<n>,...] [--zipkin]';
  let values: { replicas?: string; zipkin?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { replicas: { type: 'string' }, zipkin: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}; ${usage}`);
  }
  const zipkinEnv = env.STACK_ZIPKIN ?? 'false';
  if (!['true', 'false'].includes(zipkinEnv)) {
    throw new Error(`STACK_ZIPKIN=${zipkinEnv}: expected true or false`);
  }
  return {
    counts: replicaCounts(values.replicas, env),
    zipkin: values.zipkin ?? zipkinEnv === 'true',
  };
}

/**
 * One entry per instance. The first replica of a service keeps the service's port; the others
 * take the next free ports above the highest service port, in service order.
 */
async function serviceSpecs(counts: ReplicaCounts, smtpUrl: string): Promise<ServiceSpec[]> {
  const specs: ServiceSpec[] = [];
  let nextPort = Math.max(...SERVICES.map((service) => service.port)) + 1;
  for (const service of SERVICES) {
    const replicas = counts[service.name];
    for (let replica = 1; replica <= replicas; replica++) {
      let port = service.port;
      if (replica > 1) {
        port = await nextFreePort(nextPort);
        nextPort = port + 1;
      }
      specs.push({
        name: service.name,
        source: service.source,
        replica,
        replicas,
        port,
        extraEnv: {
          ...(service.name === 'notification-service' ? { SMTP_URL: smtpUrl } : {}),
          // One client id per replica tells them apart in broker logs; the group id stays shared.
          ...(replicas > 1 ? { KAFKA_CLIENT_ID: `${service.name}-${replica}` } : {}),
          // The name the flow console shows for what this replica handled and published.
          REPLICA_ID: `${service.source}#${replica}`,
        },
      });
    }
  }
  return specs;
}

async function nextFreePort(from: number): Promise<number> {
  for (let port = from; port <= 65_535; port++) {
    const free = await assertPortFree(port).then(
      () => true,
      () => false,
    );
    if (free) return port;
  }
  throw new Error(`no free port at or above ${from}`);
}

const CATALOGUE = [
  { sku: 'KEYBOARD-01', name: 'Mechanical keyboard', stock: 100 },
  { sku: 'MOUSE-01', name: 'Wireless mouse', stock: 250 },
  { sku: 'MONITOR-27', name: '27-inch monitor', stock: 20 },
  { sku: 'CABLE-USBC', name: 'USB-C cable', stock: 1000 },
];

async function startInfrastructure(stack: Stack, options: StackOptions): Promise<void> {
  say('starting Kafka and Postgres');
  // Zipkin boots slowly (a Spring application): it starts beside the rest, and is awaited last.
  const zipkin = options.zipkin
    ? startZipkin({ port: ports.zipkin, log: logger('zipkin') }).then((running) => {
        stack.zipkin = running;
        return running;
      })
    : undefined;
  zipkin?.catch(() => undefined);
  const [kafka, postgres] = await Promise.allSettled([
    startKafka({ port: ports.kafka, controllerPort: ports.kafkaController, log: logger('kafka') }),
    startPostgres({
      port: ports.postgres,
      ...(process.env.DATABASE_URL ? { externalUrl: process.env.DATABASE_URL } : {}),
      log: logger('postgres'),
    }),
  ]);
  if (kafka.status === 'fulfilled') stack.kafka = kafka.value;
  if (postgres.status === 'fulfilled') stack.postgres = postgres.value;
  if (kafka.status === 'rejected') throw kafka.reason;
  if (postgres.status === 'rejected') throw postgres.reason;
  say(`Kafka ready at ${kafka.value.brokers}`);
  say(`Postgres ready at ${redact(postgres.value.adminUrl)}`);

  await bootstrapDatabase(postgres.value.adminUrl, DATABASE);
  say(`database "${DATABASE}" ready; Kafka topics, users and ACLs provisioned`);

  stack.maildev = await startMaildev({ smtpPort: ports.mailSmtp, webPort: ports.mailWeb });
  logger('mail')(`MailDev SMTP ${stack.maildev.smtpUrl}, inbox ${stack.maildev.webUrl}`);

  stack.idp = await startIdentityProvider({ port: ports.idp, log: logger('idp') });
  say(`identity provider ready at ${stack.idp.issuerUrl}`);
  if (zipkin) logger('zipkin')(`Zipkin UI ${(await zipkin).uiUrl}`);
}

/** Where the services send their spans, when tracing is on. */
function tracingEnv(stack: Stack): Record<string, string> {
  return stack.zipkin
    ? { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: stack.zipkin.spansUrl }
    : {};
}

async function startServices(
  stack: Stack,
  kafka: RunningKafka,
  postgres: RunningPostgres,
  idp: RunningIdentityProvider,
  specs: ServiceSpec[],
): Promise<void> {
  const results = await Promise.allSettled(
    specs.map(async (spec) => {
      const label = spec.replicas > 1 ? `${spec.name} #${spec.replica}` : spec.name;
      const service = await spawnService({
        name: spec.name,
        port: spec.port,
        log: logger(spec.source, spec.replicas > 1 ? spec.replica : undefined),
        env: {
          ...serviceDatabaseEnv(postgres.adminUrl, spec.name, DATABASE),
          KAFKA_BROKERS: kafka.brokers,
          ...devstackKafkaEnv(spec.name),
          AUTH_ISSUER_URL: idp.issuerUrl,
          LOG_FORMAT: 'pretty',
          // The services write to a pipe (this process); keep their colours when we print to a terminal.
          ...(useColour ? { FORCE_COLOR: '1' } : {}),
          ...tracingEnv(stack),
          ...spec.extraEnv,
        },
      });
      stack.services.push(service);
      watchForCrash(stack, service, label);
      say(`${label} healthy at ${service.baseUrl} (pid ${service.pid})`);
    }),
  );
  const failed = results.find(
    (result): result is PromiseRejectedResult => result.status === 'rejected',
  );
  if (failed) throw failed.reason;
}

/** The console reaches every replica of each service through their internal endpoints. */
async function startConsole(
  stack: Stack,
  kafka: RunningKafka,
  idp: RunningIdentityProvider,
  specs: ServiceSpec[],
): Promise<void> {
  const urlsOf = (name: ServiceName) =>
    specs
      .filter((spec) => spec.name === name)
      .map((spec) => `http://127.0.0.1:${spec.port}`)
      .join(',');
  const observer = await spawnService({
    name: 'flow-console',
    port: ports.console,
    log: logger('console'),
    env: {
      KAFKA_BROKERS: kafka.brokers,
      ...devstackKafkaEnv('flow-console'),
      ORDER_SERVICE_URLS: urlsOf('order-service'),
      INVENTORY_SERVICE_URLS: urlsOf('inventory-service'),
      NOTIFICATION_SERVICE_URLS: urlsOf('notification-service'),
      AUTH_ISSUER_URL: idp.issuerUrl,
      AUTH_CLIENT_SECRET: seededClientSecret('flow-console'),
      LOG_FORMAT: 'pretty',
      ...(useColour ? { FORCE_COLOR: '1' } : {}),
      ...(stack.zipkin ? { TRACE_UI_URL: stack.zipkin.uiUrl } : {}),
    },
  });
  stack.services.push(observer);
  watchForCrash(stack, observer, 'flow-console');
  say(`flow-console healthy at ${observer.baseUrl} (pid ${observer.pid})`);
}

function watchForCrash(stack: Stack, service: ServiceProcess, label: string): void {
  void service.exited.then((code) => {
    if (stack.stopping) return;
    const how = code === null ? 'killed by a signal' : `exit code ${code}`;
    loud(`${label} (pid ${service.pid}) DIED (${how}); the rest keeps running`);
    for (const line of service.output().slice(-20)) console.error(`    ${line}`);
  });
}

/** As the seeded admin: only an admin sets products and stock. */
async function seedCatalogue(inventoryUrl: string, idp: RunningIdentityProvider): Promise<void> {
  const authorization = `Bearer ${await issueToken(idp.issuerUrl, 'admin')}`;
  for (const product of CATALOGUE) {
    const url = `${inventoryUrl}/products/${encodeURIComponent(product.sku)}`;
    const existing = await fetch(url, { headers: { authorization } });
    if (existing.status !== 404) continue;
    const response = await fetch(url, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name: product.name, stock: product.stock }),
    });
    if (!response.ok)
      throw new Error(`seeding ${product.sku} failed: ${response.status} ${await response.text()}`);
    say(`seeded ${product.sku} (${product.stock} in stock)`);
  }
}

function printBanner(
  stack: Stack,
  maildev: RunningMaildev,
  idp: RunningIdentityProvider,
  specs: ServiceSpec[],
): void {
  const urls = (name: ServiceName): string =>
    specs
      .filter((spec) => spec.name === name)
      .map(
        (spec) => `http://localhost:${spec.port}${spec.replicas > 1 ? ` (#${spec.replica})` : ''}`,
      )
      .join('  ');
  const lines = [
    '',
    'The stack is up. Ctrl-C stops everything.',
    '',
    `  Flow console     http://localhost:${ports.console}   <- start here: place an order, watch it flow`,
    `  Order API        ${urls('order-service')}`,
    `  Swagger UI       http://localhost:${ports.order}/docs`,
    `  Inventory API    ${urls('inventory-service')}`,
    `  Notifications    ${urls('notification-service')}`,
    `  MailDev inbox    ${maildev.webUrl}`,
    `  Identity (OIDC)  ${idp.issuerUrl}/.well-known/openid-configuration`,
    stack.zipkin
      ? `  Zipkin (traces)  ${stack.zipkin.uiUrl}`
      : '  Traces           off (pnpm stack --zipkin runs Zipkin and traces every order)',
    `  Metrics          http://localhost:${ports.order}/metrics (each service serves its own)`,
    `  Kafka            127.0.0.1:${ports.kafka}   (SASL/SCRAM only; principals and ACLs: packages/kafka-access)`,
    '',
    'Dead letters, as the operator principal:',
    `  KAFKA_BROKERS=127.0.0.1:${ports.kafka} KAFKA_SASL_PASSWORD=${devstackKafkaSasl('operator').password} pnpm dlq list`,
    '',
    'Place an order as the seeded customer ada (pnpm token admin for the admin):',
    `  TOKEN=$(pnpm -s token customer)`,
    `  curl -s -X POST http://localhost:${ports.order}/orders -H "authorization: Bearer $TOKEN" \\`,
    `    -H 'content-type: application/json' -d '{"items":[{"sku":"KEYBOARD-01","quantity":1}]}'`,
    '',
  ];
  for (const line of lines) say(line);
}

async function shutdown(stack: Stack): Promise<void> {
  stack.stopping = true;
  // The observer, then the entry point (no new orders), then the consumers; replicas together.
  for (const { name } of [{ name: 'flow-console' }, ...SERVICES]) {
    const replicas = stack.services.filter((service) => service.name === name);
    if (replicas.length === 0) continue;
    say(`stopping ${name}${replicas.length > 1 ? ` (${replicas.length} replicas)` : ''}`);
    await Promise.allSettled(replicas.map((service) => service.stop()));
  }
  await stopQuietly('MailDev', stack.maildev?.stop());
  await stopQuietly('Zipkin', stack.zipkin?.stop());
  await stopQuietly('the identity provider', stack.idp?.stop());
  await stopQuietly('Kafka', stack.kafka?.stop());
  await stopQuietly('Postgres', stack.postgres?.stop());
  say('stopped');
}

async function stopQuietly(what: string, stopping: Promise<void> | undefined): Promise<void> {
  try {
    await stopping;
  } catch (error) {
    say(
      `could not stop ${what} cleanly: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function onStopSignal(stack: Stack): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (signalled) {
      say('second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    say(`${signal} received`);
    void shutdown(stack).then(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function main(): Promise<void> {
  const stack: Stack = { services: [], stopping: false };
  let options: StackOptions;
  try {
    options = stackOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  onStopSignal(stack);
  try {
    await startInfrastructure(stack, options);
    const { kafka, postgres, maildev, idp } = stack;
    if (!kafka || !postgres || !maildev || !idp) throw new Error('infrastructure did not start');
    const specs = await serviceSpecs(options.counts, `smtp://127.0.0.1:${ports.mailSmtp}`);
    await startServices(stack, kafka, postgres, idp, specs);
    await seedCatalogue(`http://127.0.0.1:${ports.inventory}`, idp);
    await startConsole(stack, kafka, idp, specs);
    printBanner(stack, maildev, idp, specs);
  } catch (error) {
    loud('the stack failed to start');
    console.error(error instanceof Error ? error.message : String(error));
    await shutdown(stack);
    process.exit(1);
  }
}

void main();
