import { randomUUID } from 'node:crypto';
import { OrderPlaced } from '@shop/contracts';
import { authHeader, waitFor, type EventProbe } from '@shop/devstack';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { IdempotencyKeysSweeper } from '../src/orders/idempotency-keys.sweeper';
import { requestFingerprint } from '../src/orders/request-fingerprint';
import { PrismaService } from '../src/prisma/prisma.service';
import { orderService } from '../src/service';

let sut: ServiceUnderTest<unknown>;
let probe: EventProbe;
let prisma: PrismaService;
let ada: { authorization: string };
let grace: { authorization: string };

beforeAll(async () => {
  [ada, grace] = await Promise.all([authHeader('ada'), authHeader('grace')]);
  sut = await startServiceUnderTest(orderService);
  probe = sut.probe;
  prisma = sut.running.app.get(PrismaService);
});

afterAll(async () => {
  await sut?.stop();
});

interface Answer {
  status: number;
  location: string | null;
  replayed: string | null;
  body: { id: string; issues?: Array<{ field: string; problem: string }> };
}

/** Each test orders its own product, so counting the orders of that SKU counts its orders. */
function orderFor(sku: string, quantity = 2) {
  return { items: [{ sku, quantity }] };
}

function newSku(test: string): string {
  return `${test}-${randomUUID().slice(0, 8)}`;
}

async function post(body: unknown, key?: string, caller = ada): Promise<Answer> {
  const response = await fetch(`${sut.url}/orders`, {
    method: 'POST',
    headers: {
      ...caller,
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'Idempotency-Key': key }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    location: response.headers.get('location'),
    replayed: response.headers.get('idempotent-replayed'),
    body: (await response.json()) as Answer['body'],
  };
}

async function ordersOf(sku: string): Promise<number> {
  const [row] = await prisma.$queryRaw<Array<{ orders: number }>>`
    SELECT count(*)::int AS orders FROM orders
     WHERE items @> ${JSON.stringify([{ sku }])}::jsonb`;
  return row?.orders ?? 0;
}

/**
 * The relay publishes in commit order: once an order placed afterwards is published, any second
 * OrderPlaced for `orderId` would have been seen.
 */
async function expectOneOrderPlaced(orderId: string): Promise<void> {
  await probe.waitForType(OrderPlaced.type, orderId);
  const marker = await post(orderFor(newSku('MARKER')));
  await probe.waitForType(OrderPlaced.type, marker.body.id);
  expect(probe.ofType(OrderPlaced.type, orderId)).toHaveLength(1);
}

describe('POST /orders with an Idempotency-Key', () => {
  it('answers a repeat with the same order, the same 202 and Location, and places it once', async () => {
    const sku = newSku('REPEAT');
    const key = randomUUID();
    const first = await post(orderFor(sku), key);
    const again = await post(orderFor(sku), key);

    expect(first).toMatchObject({ status: 202, replayed: null });
    expect(again).toMatchObject({ status: 202, replayed: 'true', location: first.location });
    expect(again.body.id).toBe(first.body.id);
    expect(first.location).toBe(`/orders/${first.body.id}`);
    expect(await ordersOf(sku)).toBe(1);
    await expectOneOrderPlaced(first.body.id);
  });

  it('treats the same body with its fields in another order as the same request', async () => {
    const sku = newSku('REORDERED');
    const key = randomUUID();
    const first = await post(orderFor(sku), key);
    const reordered = `{"items":[{"quantity":2,"sku":"${sku}"}]}`;
    const again = await post(reordered, key);
    expect(again).toMatchObject({ status: 202, replayed: 'true' });
    expect(again.body.id).toBe(first.body.id);
  });

  it('refuses the same key with a different body with 422 naming the header, and stores nothing', async () => {
    const sku = newSku('CHANGED');
    const key = randomUUID();
    const first = await post(orderFor(sku, 2), key);
    const changed = await post(orderFor(sku, 3), key);

    expect(changed.status).toBe(422);
    expect(changed.body.issues).toEqual([
      { field: 'Idempotency-Key', problem: expect.stringContaining('different request') },
    ]);
    expect(await ordersOf(sku)).toBe(1);
    expect((await post(orderFor(sku, 2), key)).body.id).toBe(first.body.id);
  });

  it("keeps each customer's keys apart: the same key from another customer places their own order, and a 422 names nothing of anyone else", async () => {
    const key = randomUUID();
    const sku = newSku('SHARED-KEY');
    const adas = await post(orderFor(sku, 2), key, ada);
    const graces = await post(orderFor(sku, 3), key, grace);
    expect(adas).toMatchObject({ status: 202, replayed: null });
    expect(graces).toMatchObject({ status: 202, replayed: null });
    expect(graces.body.id).not.toBe(adas.body.id);
    expect(graces.body).toMatchObject({ customerEmail: 'grace@example.com' });

    const graceRepeats = await post(orderFor(sku, 3), key, grace);
    expect(graceRepeats).toMatchObject({ status: 202, replayed: 'true' });
    expect(graceRepeats.body.id).toBe(graces.body.id);
    const graceChanges = await post(orderFor(sku, 4), key, grace);
    expect(graceChanges.status).toBe(422);
    expect(JSON.stringify(graceChanges.body)).not.toContain(adas.body.id);
    expect(JSON.stringify(graceChanges.body)).not.toContain(graces.body.id);
    expect(await ordersOf(sku)).toBe(2);
  });

  it('places one order for many concurrent requests with the same key', async () => {
    const sku = newSku('CONCURRENT');
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 12 }, () => post(orderFor(sku), key)));

    expect(answers.map((answer) => answer.status)).toEqual(Array(12).fill(202));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.replayed === null)).toHaveLength(1);
    expect(await ordersOf(sku)).toBe(1);
    await expectOneOrderPlaced(answers[0]?.body.id ?? '');
  });

  describe('while another transaction holds the same key, not yet committed', () => {
    /**
     * Inserts an order and its key in a transaction left open until `finish` is called, and
     * starts a POST with the same key and body, which must wait for that transaction.
     */
    async function holdKeyWhilePosting(sku: string, key: string) {
      const heldId = randomUUID();
      let finish!: (commit: boolean) => void;
      const decision = new Promise<boolean>((resolve) => (finish = resolve));
      let inserted!: () => void;
      const ready = new Promise<void>((resolve) => (inserted = resolve));
      const holder = prisma.$transaction(
        async (tx) => {
          await tx.order.create({
            data: {
              id: heldId,
              customerSubject: 'ada',
              customerEmail: 'ada@example.com',
              status: 'PENDING',
              items: orderFor(sku).items,
            },
          });
          await tx.$executeRaw`
            INSERT INTO idempotency_keys (caller_subject, key, request_fingerprint, order_id)
            VALUES ('ada', ${key}, ${requestFingerprint(orderFor(sku))}, ${heldId}::uuid)`;
          inserted();
          if (!(await decision)) throw new Error('rolled back on purpose');
        },
        { timeout: 60_000 },
      );
      const settled = holder.then(
        () => 'committed',
        () => 'rolled back',
      );
      await ready;
      const answer = post(orderFor(sku), key);
      await waitFor(
        async () => {
          const [row] = await prisma.$queryRaw<Array<{ waiting: number }>>`
            SELECT count(*)::int AS waiting FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`;
          return (row?.waiting ?? 0) > 0;
        },
        { timeoutMs: 10_000, intervalMs: 20, description: 'the POST to wait on the held key' },
      );
      return { heldId, answer, finish, settled };
    }

    it('answers with the holder’s order once it commits', async () => {
      const sku = newSku('HELD-COMMIT');
      const held = await holdKeyWhilePosting(sku, randomUUID());
      held.finish(true);
      expect(await held.settled).toBe('committed');
      const answer = await held.answer;
      expect(answer).toMatchObject({ status: 202, replayed: 'true' });
      expect(answer.body.id).toBe(held.heldId);
      expect(await ordersOf(sku)).toBe(1);
    });

    it('places its own order once the holder rolls back', async () => {
      const sku = newSku('HELD-ROLLBACK');
      const held = await holdKeyWhilePosting(sku, randomUUID());
      held.finish(false);
      expect(await held.settled).toBe('rolled back');
      const answer = await held.answer;
      expect(answer).toMatchObject({ status: 202, replayed: null });
      expect(answer.body.id).not.toBe(held.heldId);
      expect(await ordersOf(sku)).toBe(1);
      await expectOneOrderPlaced(answer.body.id);
    });
  });

  it('refuses a key that is empty, too long or not printable ASCII with 400 naming the header', async () => {
    const sku = newSku('BAD-KEY');
    for (const key of ['', 'k'.repeat(256), 'clé']) {
      const answer = await post(orderFor(sku), key);
      expect(answer.status).toBe(400);
      expect(answer.body.issues).toEqual([
        { field: 'Idempotency-Key', problem: expect.any(String) },
      ]);
    }
    expect(await ordersOf(sku)).toBe(0);
  });

  it('places a new order for every request without a key, as before', async () => {
    const sku = newSku('NO-KEY');
    const [first, second] = [await post(orderFor(sku)), await post(orderFor(sku))];
    expect(first?.status).toBe(202);
    expect(second?.status).toBe(202);
    expect(second?.body.id).not.toBe(first?.body.id);
    expect(await ordersOf(sku)).toBe(2);
  });

  it('forgets keys after 24 hours: the sweep deletes older keys and keeps newer ones', async () => {
    const [old, recent] = [randomUUID(), randomUUID()];
    await prisma.$executeRaw`
      INSERT INTO idempotency_keys (caller_subject, key, request_fingerprint, order_id, created_at)
      VALUES ('ada', ${old}, 'x', ${randomUUID()}::uuid, now() - interval '25 hours'),
             ('ada', ${recent}, 'x', ${randomUUID()}::uuid, now() - interval '23 hours')`;
    const deleted = await sut.running.app.get(IdempotencyKeysSweeper).sweep();
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = await prisma.idempotencyKey.findMany({ where: { key: { in: [old, recent] } } });
    expect(left.map((row) => row.key)).toEqual([recent]);
  });
});
