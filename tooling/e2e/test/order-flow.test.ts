import { Client } from 'pg';
import { authHeader, pauseTestKafka, requestJson, waitFor } from '@shop/devstack';
import {
  getOrder,
  getProduct,
  orderReference,
  placeOrder,
  putProduct,
  startTestStack,
  type Order,
  type TestStack,
} from './stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function waitForStatus(
  id: string,
  status: Order['status'],
  timeoutMs = 30_000,
): Promise<Order> {
  return waitFor(
    async () => {
      const order = await getOrder(stack, id);
      return order.status === status ? order : undefined;
    },
    { timeoutMs, intervalMs: 50, description: `order ${id} to become ${status}` },
  );
}

/** The email about `order` (its subject names it) to `to`. */
async function waitForEmail(to: string, order: Order, subject: RegExp) {
  const [message] = await stack.smtp.waitForMessages(
    (mail) =>
      mail.to.includes(to) &&
      subject.test(mail.subject) &&
      orderReference(mail.subject) === order.id.slice(0, 8),
    1,
    30_000,
  );
  return message!;
}

interface NotificationRow {
  type: string;
  recipient: string;
  subject: string;
  status: string;
  sentAt: string | null;
}

async function notificationsFor(orderId: string): Promise<NotificationRow[]> {
  return (
    await requestJson<NotificationRow[]>(
      'GET',
      `${stack.notification.baseUrl}/notifications?orderId=${orderId}`,
      undefined,
      await authHeader('admin'),
    )
  ).body;
}

describe('the order flow across the three running services', () => {
  it('confirms an order, reserves its stock and emails the customer', async () => {
    await putProduct(stack, 'E2E-KEYBOARD', 10);
    const order = await placeOrder(stack, [{ sku: 'E2E-KEYBOARD', quantity: 3 }], 'grace');
    expect(order.customerEmail).toBe('grace@example.com');
    expect(order.status).toBe('PENDING');

    await waitForStatus(order.id, 'CONFIRMED');
    expect(await getProduct(stack, 'E2E-KEYBOARD')).toMatchObject({ available: 7, reserved: 3 });
    const email = await waitForEmail('grace@example.com', order, /confirmed/i);
    expect(email.subject).toContain(order.id.slice(0, 8));
    expect(email.text).toContain('E2E-KEYBOARD');
    await waitFor(
      async () => (await notificationsFor(order.id)).some((row) => row.status === 'SENT'),
      {
        timeoutMs: 10_000,
        description: 'the confirmation to be recorded as SENT',
      },
    );
    expect(await notificationsFor(order.id)).toEqual([
      expect.objectContaining({
        type: 'ORDER_CONFIRMED',
        recipient: 'grace@example.com',
        status: 'SENT',
      }),
    ]);
  });

  it('rejects an order for insufficient stock, names the SKU, and emails the customer', async () => {
    await putProduct(stack, 'E2E-MONITOR', 1);
    const order = await placeOrder(stack, [{ sku: 'E2E-MONITOR', quantity: 2 }], 'alan');
    const rejected = await waitForStatus(order.id, 'REJECTED');
    expect(rejected.rejectionReason).toBe(
      'insufficient stock for SKU E2E-MONITOR: requested 2, available 1',
    );
    const email = await waitForEmail('alan@example.com', order, /could not be accepted/i);
    expect(email.text).toContain('E2E-MONITOR');
    expect(await getProduct(stack, 'E2E-MONITOR')).toMatchObject({ available: 1, reserved: 0 });
  });

  it('rejects an order for an unknown SKU and emails the customer', async () => {
    const order = await placeOrder(stack, [{ sku: 'E2E-NO-SUCH-THING', quantity: 1 }], 'ada');
    const rejected = await waitForStatus(order.id, 'REJECTED');
    expect(rejected.rejectionReason).toBe('unknown SKU E2E-NO-SUCH-THING');
    const email = await waitForEmail('ada@example.com', order, /could not be accepted/i);
    expect(email.text).toContain('E2E-NO-SUCH-THING');
  });

  it('cancels a confirmed order, releases its stock and emails the customer', async () => {
    await putProduct(stack, 'E2E-MOUSE', 5);
    const order = await placeOrder(stack, [{ sku: 'E2E-MOUSE', quantity: 2 }], 'alan');
    await waitForStatus(order.id, 'CONFIRMED');
    expect(await getProduct(stack, 'E2E-MOUSE')).toMatchObject({ available: 3, reserved: 2 });

    const alan = await authHeader('alan');
    const cancel = await requestJson<Order>(
      'POST',
      `${stack.order.baseUrl}/orders/${order.id}/cancel`,
      undefined,
      alan,
    );
    expect(cancel.status).toBe(202);
    expect(cancel.body.status).toBe('CANCELLED');
    await waitFor(
      async () => {
        const product = await getProduct(stack, 'E2E-MOUSE');
        return product.available === 5 && product.reserved === 0;
      },
      { timeoutMs: 30_000, description: 'the cancelled order’s stock to be released' },
    );
    await waitForEmail('alan@example.com', order, /cancelled/i);
    const again = await requestJson(
      'POST',
      `${stack.order.baseUrl}/orders/${order.id}/cancel`,
      undefined,
      alan,
    );
    expect(again.status).toBe(409);
  });

  it('lets 200 concurrent orders for 50 units reserve exactly 50 and rejects the rest', async () => {
    await putProduct(stack, 'E2E-HOT', 50);
    const orders = await Promise.all(
      Array.from({ length: 200 }, () => placeOrder(stack, [{ sku: 'E2E-HOT', quantity: 1 }])),
    );
    const finals = await waitFor(
      async () => {
        const current = await Promise.all(orders.map((order) => getOrder(stack, order.id)));
        return current.every((order) => order.status !== 'PENDING') ? current : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'all 200 orders to leave PENDING' },
    );
    expect(finals.filter((order) => order.status === 'CONFIRMED')).toHaveLength(50);
    expect(finals.filter((order) => order.status === 'REJECTED')).toHaveLength(150);
    expect(await getProduct(stack, 'E2E-HOT')).toMatchObject({ available: 0, reserved: 50 });
    const references = new Set(orders.map((order) => order.id.slice(0, 8)));
    const emails = await stack.smtp.waitForMessages(
      (mail) => references.has(orderReference(mail.subject) ?? ''),
      200,
      60_000,
    );
    expect(new Set(emails.map((mail) => orderReference(mail.subject))).size).toBe(200);
  });

  it('accepts orders while Kafka is unreachable, keeps their events in the outbox, and completes them once it is back', async () => {
    await putProduct(stack, 'E2E-OUTAGE', 100);
    const resume = pauseTestKafka();
    let orders: Order[];
    try {
      orders = await Promise.all(
        Array.from({ length: 20 }, () => placeOrder(stack, [{ sku: 'E2E-OUTAGE', quantity: 1 }])),
      );
      expect(orders.every((order) => order.status === 'PENDING')).toBe(true);
      expect(await unsentOrderPlaced(orders.map((order) => order.id))).toBe(20);
    } finally {
      resume();
    }
    await waitFor(
      async () => {
        const current = await Promise.all(orders.map((order) => getOrder(stack, order.id)));
        return current.every((order) => order.status === 'CONFIRMED');
      },
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        description: 'every order accepted during the outage to be CONFIRMED',
      },
    );
    expect(await unsentOrderPlaced(orders.map((order) => order.id))).toBe(0);
    expect(await getProduct(stack, 'E2E-OUTAGE')).toMatchObject({ available: 80, reserved: 20 });
    const references = new Set(orders.map((order) => order.id.slice(0, 8)));
    await stack.smtp.waitForMessages(
      (mail) => references.has(orderReference(mail.subject) ?? ''),
      20,
      60_000,
    );
  });
});

/** Outbox rows of OrderPlaced for these orders that the relay has not published yet (read as the admin). */
async function unsentOrderPlaced(orderIds: string[]): Promise<number> {
  const client = new Client({ connectionString: stack.database.adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM orders.outbox_events
        WHERE sent_at IS NULL AND event_type = 'OrderPlaced' AND message_key = ANY($1)`,
      [orderIds],
    );
    return Number(rows[0]?.count);
  } finally {
    await client.end();
  }
}
