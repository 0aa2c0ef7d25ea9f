#!/usr/bin/env node
/**
 * `node tooling/bench/dist/prepared-statement-cost.js [--calls 5000] [--rounds 5]`: what named
 * (prepared) statements could save per call against the unnamed ones Prisma sends today.
 *
 * @prisma/adapter-pg hands every query to `pg` as `{ name: statementNameGenerator?.(query), text,
 * values }`; without that option the name is undefined, so Postgres parses, analyses and plans
 * the text on every call. The services now set it (service-kit's statementNamer) unless
 * DATABASE_PREPARED_STATEMENTS=false. This starts a throwaway Postgres (fsync on,
 * as `pnpm stack`), applies the order service's migrations and runs, one call at a time, the
 * order service's one-statement order insert and its order read (`find`) these ways:
 *   prisma        the service's own PrismaService (its pool, its adapter) through OrdersRepository,
 *                 with DATABASE_PREPARED_STATEMENTS=false: unnamed, as before the lever
 *   prisma+names  the same repository over the service's generated client named by
 *                 statementNamer: the lever as the services run it
 *   pg unnamed    the same SQL text and values (built per call by the same repository code over
 *                 a stand-in client), `client.query({ text, values })` on one connection
 *   pg named      the same, `client.query({ name, text, values })`
 *   SELECT 1      pg, unnamed: a calibration of this machine's round trip, measured alongside
 * Each round runs every way in turn (the order rotates per round, the machine drifts) and reports
 * wall time, this process's CPU and the Postgres backend's CPU (utime+stime of its pids in
 * /proc, in clock ticks) per call. Figures only: nothing here asserts a timing.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client, Pool, type QueryConfig } from 'pg';
import { createEvent, OrderPlaced, type OrderLine } from '@shop/contracts';
import { applyMigrations, bootstrapDatabase, serviceDatabaseUrl } from '@shop/database';
import { findRepoRoot, freePort, startPostgres } from '@shop/devstack';
import { toOutboxRecord, type OutboxRecord } from '@shop/messaging';
import { statementNamer } from '@shop/service-kit';
import { CLOCK_TICKS, readStat } from './resources';
import { spread } from './stats';

const DATABASE = 'statements';
const WARM_UP_CALLS = 200;
const CUSTOMER = { subject: 'bench-customer', email: 'bench-customer@example.com' };

type PrismaPgOptions = NonNullable<ConstructorParameters<typeof PrismaPg>[1]>;
type SqlQuery = Parameters<NonNullable<PrismaPgOptions['statementNameGenerator']>>[0];

/** The slice of the order service's built code used here (its dist/ ships no declarations). */
interface NewOrder {
  id: string;
  customerSubject: string;
  customerEmail: string;
  items: OrderLine[];
}
interface OrdersRepository {
  insert(order: NewOrder, announcement: OutboxRecord, idempotency: undefined): Promise<unknown>;
  find(id: string): Promise<unknown>;
}
interface PrismaClientLike {
  $connect(): Promise<void>;
  $disconnect(): Promise<void>;
}
interface OrderServiceCode {
  OrdersRepository: new (prisma: unknown) => OrdersRepository;
  PrismaService: new (config: {
    DATABASE_URL: string;
    DATABASE_PREPARED_STATEMENTS: boolean;
  }) => PrismaClientLike;
  PrismaClient: new (options: { adapter: PrismaPg }) => PrismaClientLike;
}

interface Placed {
  order: NewOrder;
  record: OutboxRecord;
}

/** One way of sending the statements, on its own connection(s). */
interface Way {
  name: string;
  insert?: (placed: Placed) => Promise<unknown>;
  read?: (id: string) => Promise<unknown>;
  ping?: () => Promise<unknown>;
  /** The backend pids serving it, found after its warm-up. */
  backends(): Promise<number[]>;
  /** Its prepared statements: how often Postgres planned each generically or per call. */
  plans?: () => Promise<PreparedPlans[]>;
}

interface PreparedPlans {
  name: string;
  generic_plans: string;
  custom_plans: string;
}

type Figure = 'wallUs' | 'clientCpuUs' | 'backendCpuUs';

interface Sample {
  wallUs: number;
  clientCpuUs: number;
  backendCpuUs: number;
  /** How many backends served the batch (Prisma's pool: one, as calls never overlap). */
  backends: number;
  /** Set when the backends serving the way changed during the batch (its CPU is then partial). */
  backendsChanged: boolean;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      calls: { type: 'string', default: '5000' },
      rounds: { type: 'string', default: '5' },
    },
  });
  const calls = Number(args.calls);
  const rounds = Number(args.rounds);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`load average at start: ${loadAverage()}`);

  const workDir = await mkdtemp(join(tmpdir(), 'shop-statements-'));
  await chmod(workDir, 0o755); // Postgres runs as its own OS user under root
  const log = createWriteStream(join(workDir, 'postgres.log'));
  const postgres = await startPostgres({
    port: await freePort(),
    dataDir: join(workDir, 'postgres'),
    fresh: true,
    durable: true,
    log: (line) => log.write(`${line}\n`),
  });
  const closers: Array<() => Promise<unknown>> = [];
  try {
    await bootstrapDatabase(postgres.adminUrl, DATABASE);
    const repoRoot = findRepoRoot();
    await applyMigrations({
      databaseUrl: serviceDatabaseUrl(postgres.adminUrl, 'order-service', DATABASE, 'owner'),
      schema: 'orders',
      migrationsDir: join(repoRoot, 'apps', 'order-service', 'prisma', 'migrations'),
    });
    const runtimeUrl = (application: string) => {
      const url = new URL(serviceDatabaseUrl(postgres.adminUrl, 'order-service', DATABASE));
      url.searchParams.set('application_name', application);
      return url.toString();
    };
    const admin = new Client({ connectionString: postgres.adminUrl });
    await admin.connect();
    closers.push(() => admin.end());
    const backendsOf = async (application: string) =>
      (
        await admin.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid',
          [application],
        )
      ).rows.map((row) => row.pid);

    const code = loadOrderService(repoRoot);
    const sqlOf = statementCapture(code);
    let seen: SqlQuery[] | undefined;
    const name = statementNamer();
    const statementName = (query: SqlQuery): string => {
      seen?.push(query);
      return name(query) ?? '';
    };

    const prisma = new code.PrismaService({
      DATABASE_URL: runtimeUrl('prisma'),
      DATABASE_PREPARED_STATEMENTS: false,
    });
    const namedPool = new Pool({ connectionString: runtimeUrl('prisma+names'), max: 10 });
    const prismaNamed = new code.PrismaClient({
      adapter: new PrismaPg(namedPool, { schema: 'orders', statementNameGenerator: statementName }),
    });
    closers.push(
      () => prisma.$disconnect(),
      () => prismaNamed.$disconnect(),
      () => namedPool.end(),
    );
    const viaPrisma = new code.OrdersRepository(prisma);
    const viaPrismaNamed = new code.OrdersRepository(prismaNamed);

    // What Prisma sends, read off the adapter: the insert's text must be the one pg gets below.
    const probe = placeOrder();
    const insertSent: SqlQuery[] = (seen = []);
    await viaPrismaNamed.insert(probe.order, probe.record, undefined);
    const readSent: SqlQuery[] = (seen = []);
    await viaPrismaNamed.find(probe.order.id);
    seen = undefined;
    const insertText = sqlOf(probe).text;
    if (insertSent.length !== 1 || insertSent[0]?.sql !== insertText) {
      throw new Error('the insert Prisma sends is not the statement this script sends through pg');
    }
    const read = readSent[0];
    if (readSent.length !== 1 || !read) throw new Error('find sent other than one statement');
    const readValues = (id: string) => read.args.map((arg) => (arg === probe.order.id ? id : arg));
    say(
      `Prisma sends the insert as 1 statement (${insertText.length} chars, ` +
        `${sqlOf(probe).values.length} parameters) and find as 1 statement: ${oneLine(read.sql)}`,
    );

    const pgWay = async (name: string, prepared: boolean): Promise<Way> => {
      const client = new Client({ connectionString: runtimeUrl(name) });
      await client.connect();
      closers.push(() => client.end());
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
        ?.pid as number;
      const named = (label: string, config: QueryConfig): QueryConfig =>
        prepared ? { ...config, name: label } : config;
      return {
        name,
        insert: (placed) => client.query(named('order_insert', sqlOf(placed))),
        read: (id) => client.query(named('order_find', { text: read.sql, values: readValues(id) })),
        backends: async () => [pid],
        plans: () => preparedPlans((sql) => client.query(sql)),
      };
    };
    const pingClient = new Client({ connectionString: runtimeUrl('select-1') });
    await pingClient.connect();
    closers.push(() => pingClient.end());
    const pingPid = (await pingClient.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
      .rows[0]?.pid as number;

    const ways: Way[] = [
      {
        name: 'prisma',
        insert: (placed) => viaPrisma.insert(placed.order, placed.record, undefined),
        read: (id) => viaPrisma.find(id),
        backends: () => backendsOf('prisma'),
      },
      {
        name: 'prisma+names',
        insert: (placed) => viaPrismaNamed.insert(placed.order, placed.record, undefined),
        read: (id) => viaPrismaNamed.find(id),
        backends: () => backendsOf('prisma+names'),
        // The pool's one connection (calls never overlap) is the one that prepared them.
        plans: () => preparedPlans((sql) => namedPool.query(sql)),
      },
      await pgWay('pg unnamed', false),
      await pgWay('pg named', true),
      {
        name: 'SELECT 1',
        ping: () => pingClient.query({ text: 'SELECT 1' }),
        backends: async () => [pingPid],
      },
    ];

    const serverVersion = (
      await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")
    ).rows[0]?.v;
    say(
      `Postgres ${serverVersion} (fsync on), ${calls} calls per batch after ${WARM_UP_CALLS} ` +
        `warm-up calls, ${rounds} rounds; backend CPU from /proc/<pid>/stat at ${CLOCK_TICKS} ` +
        `ticks/s, so a resolution of ${fmt(1e6 / CLOCK_TICKS / calls)} µs per call`,
    );
    const results = new Map<string, Sample[]>();
    const record = (key: string, sample: Sample) =>
      results.set(key, [...(results.get(key) ?? []), sample]);
    for (let round = 1; round <= rounds; round++) {
      say(`round ${round}: load average ${loadAverage()}`);
      const order = ways.map((_, index) => ways[(index + round - 1) % ways.length] as Way);
      for (const way of order) {
        const run = async (
          statement: string,
          warmUp: () => Promise<unknown>,
          call: (i: number) => Promise<unknown>,
        ) => {
          for (let i = 0; i < WARM_UP_CALLS; i++) await warmUp();
          const sample = await measure(calls, way, call);
          record(`${statement}\t${way.name}`, sample);
          say(`round ${round}  ${pad(statement, 10)} ${pad(way.name, 12)} ${describe(sample)}`);
        };
        const { insert, read, ping } = way;
        if (insert && read) {
          const orders = Array.from({ length: calls }, placeOrder);
          await run(
            'insert',
            () => insert(placeOrder()),
            (i) => insert(orders[i] as Placed),
          );
          await run(
            'read',
            () => read(probe.order.id),
            (i) => read((orders[i] as Placed).order.id),
          );
        }
        if (ping) await run('round trip', ping, ping);
      }
    }

    say('\nmedians per call over the rounds (µs): wall / client CPU / backend CPU');
    const median = (key: string, field: Figure) =>
      spread((results.get(key) ?? []).map((sample) => sample[field])).median ?? 0;
    for (const key of results.keys()) {
      const [statement, way] = key.split('\t') as [string, string];
      say(
        `  ${pad(statement, 10)} ${pad(way, 12)} ${fmt(median(key, 'wallUs'))} / ` +
          `${fmt(median(key, 'clientCpuUs'))} / ${fmt(median(key, 'backendCpuUs'))}`,
      );
    }
    say('\nunnamed - named, medians per call (µs): wall / client CPU / backend CPU');
    for (const statement of ['insert', 'read']) {
      for (const [unnamed, named] of [
        ['pg unnamed', 'pg named'],
        ['prisma', 'prisma+names'],
      ] as const) {
        const a = `${statement}\t${unnamed}`;
        const b = `${statement}\t${named}`;
        const diff = (field: Figure) => fmt(median(a, field) - median(b, field));
        const backendShare =
          (100 * (median(a, 'backendCpuUs') - median(b, 'backendCpuUs'))) /
          median(a, 'backendCpuUs');
        say(
          `  ${pad(statement, 10)} ${pad(`${unnamed} - ${named}`, 27)} ${diff('wallUs')} / ` +
            `${diff('clientCpuUs')} / ${diff('backendCpuUs')} ` +
            `(${backendShare.toFixed(0)}% of the unnamed backend CPU)`,
        );
      }
    }
    say(
      "\nprepared statements on each named way's connection at the end (Postgres picks a generic " +
        'or a per-call custom plan itself; a pool may have replaced an idle connection meanwhile):',
    );
    for (const way of ways) {
      for (const plan of (await way.plans?.()) ?? []) {
        const statement =
          plan.name === name({ sql: insertText })
            ? 'order insert'
            : plan.name === name({ sql: read.sql })
              ? 'order find'
              : plan.name;
        say(
          `  ${pad(way.name, 12)} ${pad(statement, 12)} generic plans ${plan.generic_plans}, custom plans ${plan.custom_plans}`,
        );
      }
    }
    say(`\nload average at end: ${loadAverage()}`);
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await postgres.stop();
    await new Promise((resolve) => log.end(resolve));
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The order service's built repository, its PrismaService and its generated client. */
function loadOrderService(repoRoot: string): OrderServiceCode {
  const dist = join(repoRoot, 'apps', 'order-service', 'dist');
  /* eslint-disable @typescript-eslint/no-require-imports -- the service's dist/ has no types */
  return {
    ...(require(join(dist, 'orders', 'orders.repository.js')) as Pick<
      OrderServiceCode,
      'OrdersRepository'
    >),
    ...(require(join(dist, 'prisma', 'prisma.service.js')) as Pick<
      OrderServiceCode,
      'PrismaService'
    >),
    ...(require(join(dist, 'generated', 'prisma', 'client.js')) as Pick<
      OrderServiceCode,
      'PrismaClient'
    >),
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/**
 * The insert's SQL text and values as the repository builds them: its `$queryRaw` template read
 * through a stand-in client, joined with `$n` placeholders as Prisma does.
 */
function statementCapture(
  code: OrderServiceCode,
): (placed: Placed) => { text: string; values: unknown[] } {
  let captured: { text: string; values: unknown[] } | undefined;
  const recorder = new code.OrdersRepository({
    $queryRaw: (strings: TemplateStringsArray, ...values: unknown[]) => {
      captured = { text: strings.reduce((text, part, index) => `${text}$${index}${part}`), values };
      return Promise.resolve([]);
    },
  });
  return (placed) => {
    captured = undefined;
    void recorder.insert(placed.order, placed.record, undefined);
    if (!captured) throw new Error('OrdersRepository.insert did not call $queryRaw at once');
    return captured;
  };
}

/** A new order and its OrderPlaced, as OrdersService.place builds them (no idempotency key, as the bench). */
function placeOrder(): Placed {
  const items = [{ sku: 'SKU-1', quantity: 1 }];
  const event = createEvent(
    OrderPlaced,
    { orderId: randomUUID(), customerEmail: CUSTOMER.email, items },
    { correlationId: randomUUID(), causationId: null },
  );
  const id = event.payload.orderId;
  return {
    order: { id, customerSubject: CUSTOMER.subject, customerEmail: CUSTOMER.email, items },
    record: toOutboxRecord(OrderPlaced, event),
  };
}

async function measure(
  calls: number,
  way: Way,
  call: (i: number) => Promise<unknown>,
): Promise<Sample> {
  const pids = await way.backends();
  const ticksBefore = await backendTicks(pids);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call(i);
  const wallNs = Number(process.hrtime.bigint() - started);
  const cpu = process.cpuUsage(cpuBefore);
  const ticksAfter = await backendTicks(pids);
  const pidsAfter = await way.backends();
  return {
    wallUs: wallNs / 1000 / calls,
    clientCpuUs: (cpu.user + cpu.system) / calls,
    backendCpuUs: ((ticksAfter - ticksBefore) * 1e6) / CLOCK_TICKS / calls,
    backends: pids.length,
    backendsChanged: pidsAfter.join() !== pids.join(),
  };
}

/** utime + stime of these processes, in clock ticks. */
async function backendTicks(pids: readonly number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readStat(pid);
    if (!stat) throw new Error(`Postgres backend ${pid} ended during the measurement`);
    ticks += stat.utime + stat.stime;
  }
  return ticks;
}

async function preparedPlans(
  query: (sql: string) => Promise<{ rows: PreparedPlans[] }>,
): Promise<PreparedPlans[]> {
  const { rows } = await query(
    'SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name',
  );
  return rows;
}

function describe(sample: Sample): string {
  return (
    `wall ${fmt(sample.wallUs)} µs/call, client CPU ${fmt(sample.clientCpuUs)} µs/call, ` +
    `backend CPU ${fmt(sample.backendCpuUs)} µs/call` +
    (sample.backends === 1 ? '' : ` (over ${sample.backends} backends)`) +
    (sample.backendsChanged ? ' (backends changed during the batch)' : '')
  );
}

const loadAverage = () =>
  loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
const fmt = (value: number) => value.toFixed(1);
const pad = (text: string, width: number) => text.padEnd(width);
const oneLine = (sql: string) => sql.replace(/\s+/g, ' ').trim();

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
