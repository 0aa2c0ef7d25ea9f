import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapDatabase, serviceDatabaseEnv } from '@shop/database';
import { authHeader, freePort, startPostgres, waitFor, type RunningPostgres } from '@shop/devstack';
import { prismaAdapterFor, retryTransient } from '@shop/service-kit';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { PrismaClient } from '../src/generated/prisma/client';
import { orderService } from '../src/service';

/**
 * The service runs on a Postgres of its own here, so the test can restart it under traffic
 * without disturbing the run's shared server.
 */
const DATABASE = 'orders_outage';

let tempDir: string;
let postgres: RunningPostgres;
let sut: ServiceUnderTest<unknown>;
/** A superuser on the service's database, with the service's schema on its search path. */
let admin: PrismaClient;
let ada: { authorization: string };

beforeAll(async () => {
  ada = await authHeader('ada');
  tempDir = await mkdtemp(join(tmpdir(), 'order-outage-'));
  // Under root, Postgres runs as the OS user "postgres", which must be able to enter this folder.
  await chmod(tempDir, 0o755);
  postgres = await startPostgres({
    port: await freePort(),
    dataDir: join(tempDir, 'data'),
    fresh: true,
    durable: false,
    log: () => undefined,
  });
  await bootstrapDatabase(postgres.adminUrl, DATABASE);
  sut = await startServiceUnderTest(orderService, {
    ...serviceDatabaseEnv(postgres.adminUrl, 'order-service', DATABASE),
  });
  const adminUrl = new URL(postgres.adminUrl);
  adminUrl.pathname = `/${DATABASE}`;
  admin = new PrismaClient({
    adapter: prismaAdapterFor('order-service', { DATABASE_URL: adminUrl.toString() }),
  });
});

afterAll(async () => {
  await sut?.stop();
  await admin?.$disconnect();
  await postgres?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

interface Placed {
  status: number;
  id?: string;
  startedAt: number;
  endedAt: number;
  detail: string;
}

/** Clients placing orders of `sku` back to back, half of them with an Idempotency-Key, until stopped. */
function startTraffic(sku: string, clients = 4) {
  const placed: Placed[] = [];
  let stopped = false;
  const client = async (withKeys: boolean) => {
    while (!stopped) {
      const startedAt = Date.now();
      try {
        const response = await fetch(`${sut.url}/orders`, {
          method: 'POST',
          headers: {
            ...ada,
            'content-type': 'application/json',
            ...(withKeys ? { 'Idempotency-Key': randomUUID() } : {}),
          },
          body: JSON.stringify({ items: [{ sku, quantity: 1 }] }),
        });
        const text = await response.text();
        const id = response.status === 202 ? (JSON.parse(text) as { id: string }).id : undefined;
        placed.push({ status: response.status, id, startedAt, endedAt: Date.now(), detail: text });
      } catch (error) {
        placed.push({ status: 0, startedAt, endedAt: Date.now(), detail: String(error) });
      }
    }
  };
  const running = Promise.all(
    Array.from({ length: clients }, (_, index) => client(index % 2 === 0)),
  );
  return {
    placed,
    /** Waits until `count` more answers have come back than when called. */
    progress: (count: number) => {
      const target = placed.length + count;
      return waitFor(() => placed.length >= target, {
        timeoutMs: 30_000,
        intervalMs: 20,
        description: `${count} more answers to POST /orders`,
      });
    },
    stop: async () => {
      stopped = true;
      await running;
      return placed;
    },
  };
}

/** Every request got 202, and each 202 stands for exactly one stored order and one event. */
async function expectOneOrderPerAcceptedRequest(sku: string, placed: Placed[]): Promise<void> {
  const refused = placed.filter((answer) => answer.status !== 202);
  expect(refused.map((answer) => `${answer.status} ${answer.detail.slice(0, 200)}`)).toEqual([]);
  const ids = placed.map((answer) => answer.id ?? '');
  expect(new Set(ids).size).toBe(placed.length);
  const stored = await retryTransient(() =>
    admin.order.count({ where: { items: { array_contains: [{ sku }] } } }),
  );
  expect(stored).toBe(placed.length);
  const events = await retryTransient(() =>
    admin.outboxEvent.count({ where: { eventType: 'OrderPlaced', messageKey: { in: ids } } }),
  );
  expect(events).toBe(placed.length);
}

describe('POST /orders while the database fails under it', () => {
  it('accepts every order while the service’s connections are terminated again and again', async () => {
    const sku = `TERMINATED-${randomUUID().slice(0, 8)}`;
    const traffic = startTraffic(sku);
    await traffic.progress(10);
    let terminated = 0;
    for (let round = 0; round < 15; round++) {
      const [row] = await admin.$queryRaw<Array<{ count: number }>>`
        SELECT count(pg_terminate_backend(pid))::int AS count FROM pg_stat_activity
        WHERE usename = 'order_service'`;
      terminated += row?.count ?? 0;
      await traffic.progress(3);
    }
    const placed = await traffic.stop();
    expect(terminated).toBeGreaterThan(15);
    await expectOneOrderPerAcceptedRequest(sku, placed);
  });

  it('accepts every order across a restart of Postgres, answering late rather than 5xx', async () => {
    const sku = `RESTARTED-${randomUUID().slice(0, 8)}`;
    const traffic = startTraffic(sku);
    await traffic.progress(10);
    const downAt = Date.now();
    await postgres.restart();
    const upAt = Date.now();
    await traffic.progress(10);
    const placed = await traffic.stop();
    // Some requests were in flight while the server was down: they waited and still got 202.
    expect(placed.some((answer) => answer.startedAt < upAt && answer.endedAt > downAt)).toBe(true);
    await expectOneOrderPerAcceptedRequest(sku, placed);
  });
});
