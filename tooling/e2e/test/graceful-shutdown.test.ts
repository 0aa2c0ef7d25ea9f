import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import {
  authHeader,
  consumerGroupMembers,
  requestJson,
  testKafkaBrokers,
  waitFor,
} from '@shop/devstack';
import {
  getOrder,
  getProduct,
  placeOrder,
  putProduct,
  startTestStack,
  type TestStack,
} from './stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function query<T extends object>(sql: string): Promise<T[]> {
  const client = new Client({ connectionString: stack.database.adminUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function waitForConfirmed(ids: readonly string[]): Promise<void> {
  await waitFor(
    async () => {
      const rows = await query<{ id: string }>(
        `SELECT id FROM orders.orders WHERE status = 'CONFIRMED'`,
      );
      const confirmed = new Set(rows.map((row) => row.id));
      return ids.every((id) => confirmed.has(id));
    },
    { timeoutMs: 60_000, intervalMs: 200, description: `${ids.length} orders to be confirmed` },
  );
}

type Outcome = { status: number; id?: string } | { status: 'no answer' };

describe('graceful shutdown on SIGTERM', () => {
  it('the order service answers what it took in, publishes every accepted order, and exits 0', async () => {
    const sku = 'SHUTDOWN-ORDERS';
    await putProduct(stack, sku, 10_000);
    const url = `${stack.order.baseUrl}/orders`;
    const ada = await authHeader('ada');
    // Requests spread over a second (a schedule, not a wait), with SIGTERM arriving in the middle.
    let answeredSoFar = 0;
    const outcomes = Promise.all(
      Array.from({ length: 100 }, async (_, index): Promise<Outcome> => {
        await sleep(index * 10);
        try {
          const response = await requestJson<{ id: string }>(
            'POST',
            url,
            { items: [{ sku, quantity: 1 }] },
            ada,
          );
          answeredSoFar += 1;
          return { status: response.status, id: response.body.id };
        } catch {
          return { status: 'no answer' };
        }
      }),
    );
    await waitFor(() => answeredSoFar >= 20, {
      timeoutMs: 30_000,
      intervalMs: 5,
      description: 'the first 20 requests to be answered',
    });
    const exitCode = await stack.order.stop('SIGTERM');
    const answered = await outcomes;

    expect(exitCode).toBe(0);
    const statuses = new Set(answered.map((outcome) => outcome.status));
    expect([...statuses].filter((status) => status !== 202 && status !== 'no answer')).toEqual([]);
    const accepted = answered.flatMap((outcome) =>
      'id' in outcome && outcome.id ? [outcome.id] : [],
    );
    expect(accepted.length).toBeGreaterThan(0);

    // Everything accepted was committed, and its event published before the process exited.
    const stored = await query<{ id: string }>('SELECT id FROM orders.orders');
    expect(stored.map((row) => row.id).sort()).toEqual([...accepted].sort());
    const unsent = await query<{ count: string }>(
      'SELECT count(*) AS count FROM orders.outbox_events WHERE sent_at IS NULL',
    );
    expect(Number(unsent[0]?.count)).toBe(0);

    await waitForConfirmed(accepted);
    expect((await getProduct(stack, sku)).reserved).toBe(accepted.length);
    stack.order = await stack.startReplica('order-service');
  });

  it('the inventory service leaves its group at once; a new replica takes over, nothing lost or doubled', async () => {
    const sku = 'SHUTDOWN-STOCK';
    await putProduct(stack, sku, 100);
    const before = await Promise.all(
      Array.from({ length: 10 }, () => placeOrder(stack, [{ sku, quantity: 1 }])),
    );
    await waitForConfirmed(before.map((order) => order.id));

    expect(await stack.inventory.stop('SIGTERM')).toBe(0);
    // Left, not timed out: the group is empty without waiting out the 30 s session timeout.
    expect(await consumerGroupMembers(testKafkaBrokers(), stack.groupOf('inventory-service'))).toBe(
      0,
    );

    const during = await Promise.all(
      Array.from({ length: 10 }, () => placeOrder(stack, [{ sku, quantity: 2 }])),
    );
    expect((await getOrder(stack, during[0]!.id)).status).toBe('PENDING');

    stack.inventory = await stack.startReplica('inventory-service');
    await waitForConfirmed(during.map((order) => order.id));
    expect(await getProduct(stack, sku)).toMatchObject({ available: 70, reserved: 30 });
  });
});
