import { randomUUID } from 'node:crypto';
import {
  createEvent,
  OrderPlaced,
  StockReservationRejected,
  StockReserved,
  Topics,
} from '@shop/contracts';
import { authHeader, waitFor, type EventProbe, type TestProducer } from '@shop/devstack';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { orderService } from '../src/service';

let sut: ServiceUnderTest<unknown>;
let probe: EventProbe;
let producer: TestProducer;
/** A seeded customer's token: every order here is ada's. */
let ada: { authorization: string };

beforeAll(async () => {
  ada = await authHeader('ada');
  sut = await startServiceUnderTest(orderService);
  ({ probe, producer } = sut);
});

afterAll(async () => {
  await sut?.stop();
});

interface OrderBody {
  id: string;
  status: string;
  rejectionReason?: string;
  [field: string]: unknown;
}

async function placeOrder(items = [{ sku: 'KB-1', quantity: 2 }]): Promise<OrderBody> {
  const response = await fetch(`${sut.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ada },
    body: JSON.stringify({ items }),
  });
  expect(response.status).toBe(202);
  return (await response.json()) as OrderBody;
}

async function getOrder(id: string): Promise<OrderBody> {
  const response = await fetch(`${sut.url}/orders/${id}`, { headers: ada });
  expect(response.status).toBe(200);
  return (await response.json()) as OrderBody;
}

async function waitForStatus(id: string, status: string): Promise<OrderBody> {
  return waitFor(
    async () => {
      const order = await getOrder(id);
      return order.status === status ? order : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, description: `order ${id} to become ${status}` },
  );
}

function stockReserved(orderId: string) {
  return createEvent(
    StockReserved,
    { orderId, items: [{ sku: 'KB-1', quantity: 2 }] },
    { correlationId: orderId, causationId: randomUUID() },
  );
}

describe('order service against real Kafka and Postgres', () => {
  it('accepts an order as PENDING with a Location header and publishes OrderPlaced keyed by the order id', async () => {
    const response = await fetch(`${sut.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ada },
      body: JSON.stringify({ items: [{ sku: 'KB-1', quantity: 2 }] }),
    });
    expect(response.status).toBe(202);
    const order = (await response.json()) as OrderBody;
    expect(response.headers.get('location')).toBe(`/orders/${order.id}`);
    expect(order).toMatchObject({
      status: 'PENDING',
      customerEmail: 'ada@example.com',
      items: [{ sku: 'KB-1', quantity: 2 }],
    });

    const [placed] = await probe.waitForType(OrderPlaced.type, order.id);
    expect(placed?.topic).toBe(Topics.orderEvents);
    expect(placed?.key).toBe(order.id);
    expect(OrderPlaced.schema.safeParse(placed?.event).success).toBe(true);
    expect(placed?.event).toMatchObject({ correlationId: order.id, causationId: null });
  });

  it('confirms the order when inventory reserved its stock, and announces OrderConfirmed caused by that event', async () => {
    const order = await placeOrder();
    const reserved = stockReserved(order.id);
    await producer.send(StockReserved.topic, order.id, reserved);
    await waitForStatus(order.id, 'CONFIRMED');
    const [confirmed] = await probe.waitForType('OrderConfirmed', order.id);
    expect(confirmed?.event).toMatchObject({
      causationId: reserved.eventId,
      correlationId: order.id,
    });
  });

  it('handles a redelivered StockReserved once: one OrderConfirmed however often it arrives', async () => {
    const order = await placeOrder();
    const reserved = stockReserved(order.id);
    await producer.send(StockReserved.topic, order.id, reserved);
    await probe.waitForType('OrderConfirmed', order.id);
    const redelivery = await producer.send(StockReserved.topic, order.id, reserved);
    await producer.waitUntilConsumed(sut.groupId, StockReserved.topic, redelivery);
    // The relay publishes within milliseconds of a commit; a later event on the same partition proves it had the chance.
    const marker = await placeOrder();
    await producer.send(StockReserved.topic, order.id, stockReserved(marker.id));
    await probe.waitForType('OrderConfirmed', marker.id);
    expect(probe.ofType('OrderConfirmed', order.id)).toHaveLength(1);
  });

  it('rejects the order with the reason inventory gave, and announces OrderRejected', async () => {
    const order = await placeOrder();
    const rejection = createEvent(
      StockReservationRejected,
      {
        orderId: order.id,
        reason: { code: 'INSUFFICIENT_STOCK', sku: 'KB-1', requested: 2, available: 1 },
      },
      { correlationId: order.id, causationId: randomUUID() },
    );
    await producer.send(StockReservationRejected.topic, order.id, rejection);
    const rejected = await waitForStatus(order.id, 'REJECTED');
    expect(rejected.rejectionReason).toBe(
      'insufficient stock for SKU KB-1: requested 2, available 1',
    );
    const [event] = await probe.waitForType('OrderRejected', order.id);
    expect(event?.event?.payload).toMatchObject({
      reason: { code: 'INSUFFICIENT_STOCK', sku: 'KB-1' },
    });
  });

  it('cancels a confirmed order, announces OrderCancelled, and refuses to cancel it twice with 409', async () => {
    const order = await placeOrder();
    await producer.send(StockReserved.topic, order.id, stockReserved(order.id));
    await waitForStatus(order.id, 'CONFIRMED');

    const cancel = await fetch(`${sut.url}/orders/${order.id}/cancel`, {
      method: 'POST',
      headers: ada,
    });
    expect(cancel.status).toBe(202);
    expect(await cancel.json()).toMatchObject({ status: 'CANCELLED' });
    const [cancelled] = await probe.waitForType('OrderCancelled', order.id);
    expect(cancelled?.event?.payload).toMatchObject({
      previousStatus: 'CONFIRMED',
      items: [{ sku: 'KB-1', quantity: 2 }],
    });

    const again = await fetch(`${sut.url}/orders/${order.id}/cancel`, {
      method: 'POST',
      headers: ada,
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      statusCode: 409,
      message: expect.stringContaining('CANCELLED'),
    });
  });

  it('leaves a cancelled order cancelled when inventory reserves for it afterwards', async () => {
    const order = await placeOrder();
    expect(
      (await fetch(`${sut.url}/orders/${order.id}/cancel`, { method: 'POST', headers: ada }))
        .status,
    ).toBe(202);
    const late = await producer.send(StockReserved.topic, order.id, stockReserved(order.id));
    await producer.waitUntilConsumed(sut.groupId, StockReserved.topic, late);
    expect((await getOrder(order.id)).status).toBe('CANCELLED');
  });

  it('skips an invalid message without blocking the events behind it on the same partition', async () => {
    const order = await placeOrder();
    await producer.send(Topics.inventoryEvents, order.id, '{this is not json');
    await producer.send(Topics.inventoryEvents, order.id, {
      ...stockReserved(order.id),
      payload: { orderId: 'nope' },
    });
    await producer.send(Topics.inventoryEvents, order.id, {
      ...stockReserved(order.id),
      version: 99,
    });
    await producer.send(StockReserved.topic, order.id, stockReserved(order.id));
    await waitForStatus(order.id, 'CONFIRMED');
  });

  it('answers 404 with a JSON error for an unknown order and 400 for an id that is not a UUID', async () => {
    const unknown = await fetch(`${sut.url}/orders/${randomUUID()}`, { headers: ada });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      statusCode: 404,
      message: expect.stringContaining('does not exist'),
    });
    const malformed = await fetch(`${sut.url}/orders/not-a-uuid`, { headers: ada });
    expect(malformed.status).toBe(400);
  });

  it('rejects an invalid order with 400 naming each field, and stores nothing', async () => {
    const before = await sut.tables();
    const response = await fetch(`${sut.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ada },
      body: JSON.stringify({
        items: [
          { sku: 'KB-1', quantity: 1.5 },
          { sku: 'KB-2', quantity: 0 },
        ],
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: Array<{ field: string }> };
    expect(body.issues.map((issue) => issue.field)).toEqual([
      'items.0.quantity',
      'items.1.quantity',
    ]);
    expect(await sut.tables()).toEqual(before);
  });

  it('lists orders newest first, filtered by status, page by page', async () => {
    const placed = [await placeOrder(), await placeOrder(), await placeOrder()];
    const first = (await (
      await fetch(`${sut.url}/orders?status=PENDING&limit=2`, { headers: ada })
    ).json()) as {
      items: OrderBody[];
      nextCursor: string | null;
    };
    expect(first.items.map((order) => order.id)).toEqual([placed[2]?.id, placed[1]?.id]);
    expect(first.items.every((order) => order.status === 'PENDING')).toBe(true);
    expect(first.nextCursor).not.toBeNull();
    const second = (await (
      await fetch(`${sut.url}/orders?status=PENDING&limit=2&cursor=${first.nextCursor}`, {
        headers: ada,
      })
    ).json()) as { items: OrderBody[] };
    expect(second.items[0]?.id).toBe(placed[0]?.id);
    expect((await fetch(`${sut.url}/orders?status=SHIPPED`, { headers: ada })).status).toBe(400);
  });

  it('serves its OpenAPI description and Swagger UI at /docs, with the bearer scheme "Authorize" uses', async () => {
    const spec = (await (await fetch(`${sut.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { securitySchemes?: Record<string, unknown> };
    };
    expect(spec.components.securitySchemes?.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/orders', '/orders/{id}', '/orders/{id}/cancel']),
    );
    const placed = spec.paths['/orders'] as {
      post: {
        security: unknown;
        'x-roles': unknown;
        responses: Record<
          string,
          { content: Record<string, { schema: { properties: Record<string, unknown> } }> }
        >;
      };
    };
    expect(placed.post.security).toEqual([{ bearer: [] }]);
    expect(placed.post['x-roles']).toEqual(['customer']);
    const accepted = placed.post.responses['202']?.content['application/json']?.schema;
    expect(accepted?.properties.status).toMatchObject({
      enum: ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'],
    });
    const ui = await fetch(`${sut.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });
});
