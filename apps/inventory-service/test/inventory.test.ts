import { randomUUID } from 'node:crypto';
import {
  createEvent,
  OrderCancelled,
  OrderPlaced,
  type OrderLine,
  type OrderPlacedEvent,
} from '@shop/contracts';
import {
  authHeader,
  corpusFor,
  testCorpusCredentials,
  type EventProbe,
  requestJson,
  sendApiRequest,
  type TestProducer,
  wronglyAnswered,
} from '@shop/devstack';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import { PrismaService } from '../src/prisma/prisma.service';
import { ReservationsService } from '../src/reservations/reservations.service';
import { inventoryService } from '../src/service';

interface Product {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

let sut: ServiceUnderTest<unknown>;
let probe: EventProbe;
let producer: TestProducer;
let admin: { authorization: string };
let customer: { authorization: string };

beforeAll(async () => {
  [admin, customer] = await Promise.all([authHeader('admin'), authHeader('ada')]);
  sut = await startServiceUnderTest(inventoryService);
  ({ probe, producer } = sut);
});

afterAll(async () => {
  await sut?.stop();
});

async function putProduct(sku: string, stock: number): Promise<Product> {
  const response = await requestJson<Product>(
    'PUT',
    `${sut.url}/products/${sku}`,
    { name: `Product ${sku}`, stock },
    admin,
  );
  expect(response.status).toBe(200);
  return response.body;
}

async function product(sku: string): Promise<Product> {
  return (await requestJson<Product>('GET', `${sut.url}/products/${sku}`, undefined, customer))
    .body;
}

function orderPlaced(items: OrderLine[], orderId: string = randomUUID()) {
  return createEvent(
    OrderPlaced,
    { orderId, customerEmail: 'ada@example.com', items },
    { correlationId: orderId, causationId: null },
  );
}

function orderCancelled(orderId: string, items: OrderLine[]) {
  return createEvent(
    OrderCancelled,
    { orderId, customerEmail: 'ada@example.com', items, previousStatus: 'CONFIRMED' },
    { correlationId: orderId, causationId: null },
  );
}

async function place(items: OrderLine[]) {
  const event = orderPlaced(items);
  const delivery = await producer.send(OrderPlaced.topic, event.payload.orderId, event);
  return { event, delivery };
}

describe('inventory service against real Kafka and Postgres', () => {
  it('creates a product, then sets its available stock, and serves it', async () => {
    expect(await putProduct('DESK-1', 10)).toMatchObject({
      sku: 'DESK-1',
      available: 10,
      reserved: 0,
    });
    expect(await putProduct('DESK-1', 7)).toMatchObject({ available: 7, reserved: 0 });
    expect(await product('DESK-1')).toMatchObject({ name: 'Product DESK-1', available: 7 });
    const list = await requestJson<{ items: Product[] }>(
      'GET',
      `${sut.url}/products`,
      undefined,
      customer,
    );
    expect(list.body.items.map((item) => item.sku)).toContain('DESK-1');
  });

  it('answers 404 for an unknown product and 400 naming the field for a negative stock', async () => {
    const unknown = await requestJson('GET', `${sut.url}/products/NOPE-404`, undefined, customer);
    expect(unknown.status).toBe(404);
    const bad = await requestJson<{ message: string }>(
      'PUT',
      `${sut.url}/products/DESK-2`,
      { name: 'Desk', stock: -1 },
      admin,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('stock');
  });

  it('lets only an admin set products and stock; any signed-in caller reads the catalogue', async () => {
    const before = await sut.tables();
    const asCustomer = await requestJson<{ issues: Array<{ field: string }> }>(
      'PUT',
      `${sut.url}/products/STEAL-1`,
      { name: 'Free lunch', stock: 1_000_000 },
      customer,
    );
    expect(asCustomer.status).toBe(403);
    expect(asCustomer.body.issues).toEqual([
      { field: 'authorization', problem: expect.any(String) },
    ]);
    const anonymous = await requestJson('PUT', `${sut.url}/products/STEAL-1`, {
      name: 'Free lunch',
      stock: 1_000_000,
    });
    expect(anonymous.status).toBe(401);
    expect((await requestJson('GET', `${sut.url}/products`)).status).toBe(401);
    expect(await sut.tables()).toEqual(before);

    await putProduct('SHELF-1', 4);
    const operator = await authHeader('shop-operator');
    const read = await requestJson('GET', `${sut.url}/products/SHELF-1`, undefined, operator);
    expect(read.status).toBe(200);
  });

  it('reserves every line of a placed order and announces StockReserved keyed by the order id', async () => {
    await putProduct('PEN-1', 10);
    await putProduct('INK-1', 5);
    const { event } = await place([
      { sku: 'PEN-1', quantity: 3 },
      { sku: 'INK-1', quantity: 5 },
    ]);
    const [reserved] = await probe.waitForType('StockReserved', event.payload.orderId);
    expect(reserved?.key).toBe(event.payload.orderId);
    expect(reserved?.event).toMatchObject({
      causationId: event.eventId,
      correlationId: event.payload.orderId,
    });
    expect(await product('PEN-1')).toMatchObject({ available: 7, reserved: 3 });
    expect(await product('INK-1')).toMatchObject({ available: 0, reserved: 5 });
  });

  it('reserves nothing when one line lacks stock, and names that SKU with what is available', async () => {
    await putProduct('CUP-1', 10);
    await putProduct('CUP-2', 1);
    const { event } = await place([
      { sku: 'CUP-1', quantity: 4 },
      { sku: 'CUP-2', quantity: 2 },
    ]);
    const [rejected] = await probe.waitForType('StockReservationRejected', event.payload.orderId);
    expect(rejected?.event?.payload.reason).toEqual({
      code: 'INSUFFICIENT_STOCK',
      sku: 'CUP-2',
      requested: 2,
      available: 1,
    });
    expect(await product('CUP-1')).toMatchObject({ available: 10, reserved: 0 });
    expect(await product('CUP-2')).toMatchObject({ available: 1, reserved: 0 });
  });

  it('rejects an order for an unknown SKU, naming it', async () => {
    const { event } = await place([{ sku: 'GHOST-1', quantity: 1 }]);
    const [rejected] = await probe.waitForType('StockReservationRejected', event.payload.orderId);
    expect(rejected?.event?.payload.reason).toEqual({ code: 'UNKNOWN_SKU', sku: 'GHOST-1' });
  });

  it('reserves once however often the same OrderPlaced is delivered', async () => {
    await putProduct('LAMP-1', 10);
    const { event } = await place([{ sku: 'LAMP-1', quantity: 4 }]);
    await probe.waitForType('StockReserved', event.payload.orderId);
    const redeliveries = [];
    for (let copy = 0; copy < 3; copy += 1) {
      redeliveries.push(await producer.send(OrderPlaced.topic, event.payload.orderId, event));
    }
    await producer.waitUntilConsumed(sut.groupId, OrderPlaced.topic, redeliveries[2]!);
    expect(await product('LAMP-1')).toMatchObject({ available: 6, reserved: 4 });
    expect(probe.ofType('StockReserved', event.payload.orderId)).toHaveLength(1);
  });

  it('releases exactly what a cancelled order held, once, however often the cancellation arrives', async () => {
    await putProduct('BOOK-1', 10);
    const { event } = await place([{ sku: 'BOOK-1', quantity: 6 }]);
    await probe.waitForType('StockReserved', event.payload.orderId);
    const cancelled = orderCancelled(event.payload.orderId, event.payload.items);
    await producer.send(OrderCancelled.topic, event.payload.orderId, cancelled);
    const [released] = await probe.waitForType('StockReleased', event.payload.orderId);
    expect(released?.event?.payload.items).toEqual([{ sku: 'BOOK-1', quantity: 6 }]);
    expect(await product('BOOK-1')).toMatchObject({ available: 10, reserved: 0 });

    const again = await producer.send(OrderCancelled.topic, event.payload.orderId, cancelled);
    const anotherCancellation = await producer.send(
      OrderCancelled.topic,
      event.payload.orderId,
      orderCancelled(event.payload.orderId, event.payload.items),
    );
    await producer.waitUntilConsumed(sut.groupId, OrderCancelled.topic, again);
    await producer.waitUntilConsumed(sut.groupId, OrderCancelled.topic, anotherCancellation);
    expect(await product('BOOK-1')).toMatchObject({ available: 10, reserved: 0 });
    expect(probe.ofType('StockReleased', event.payload.orderId)).toHaveLength(1);
  });

  it('keeps the stock set by PUT apart from what live orders hold', async () => {
    await putProduct('BAG-1', 5);
    const { event } = await place([{ sku: 'BAG-1', quantity: 2 }]);
    await probe.waitForType('StockReserved', event.payload.orderId);
    expect(await putProduct('BAG-1', 20)).toMatchObject({ available: 20, reserved: 2 });
  });

  it('never reserves more than is available when many orders race for one SKU across partitions', async () => {
    await putProduct('HOT-1', 25);
    const placed = await Promise.all(
      Array.from({ length: 60 }, () => place([{ sku: 'HOT-1', quantity: 1 }])),
    );
    const ids = new Set(placed.map(({ event }) => event.payload.orderId));
    const answered = (observed: { event?: { type: string; payload: Record<string, unknown> } }) =>
      ids.has(observed.event?.payload.orderId as string) &&
      (observed.event?.type === 'StockReserved' ||
        observed.event?.type === 'StockReservationRejected');
    await probe.waitFor(answered, 'an answer to each racing order', {
      count: 60,
      timeoutMs: 60_000,
    });
    expect(new Set(placed.map(({ delivery }) => delivery.partition)).size).toBeGreaterThan(1);
    const outcomes = probe.matching(answered);
    expect(outcomes.filter((observed) => observed.event?.type === 'StockReserved')).toHaveLength(
      25,
    );
    expect(
      outcomes.filter((observed) => observed.event?.type === 'StockReservationRejected'),
    ).toHaveLength(35);
    expect(await product('HOT-1')).toMatchObject({ available: 0, reserved: 25 });
  });

  it('answers every request of the bad-request corpus with a 4xx JSON naming the field, and writes no product', async () => {
    const { bad, examples } = await corpusFor('inventory', sut.url, await testCorpusCredentials());
    expect(bad.length).toBeGreaterThanOrEqual(80);
    const before = await sut.tables();
    expect(await wronglyAnswered(sut.url, bad)).toEqual([]);
    expect(await sut.tables()).toEqual(before);

    // The valid request every bad PUT was derived from is accepted: each was refused for its flaw.
    const put = examples.find((request) => request.method === 'PUT');
    if (!put) throw new Error('no PUT in the inventory document');
    const { body: _body, ...getPut } = put;
    expect(
      (await sendApiRequest(sut.url, { ...getPut, method: 'GET', headers: customer })).status,
    ).toBe(404);
    expect((await sendApiRequest(sut.url, put)).status).toBe(200);
  });
});

describe('reserving a batch of placed orders in one transaction, on the real database', () => {
  const reserveAll = (events: OrderPlacedEvent[]) =>
    sut.running.app.get(ReservationsService).reserveAll(events);
  const prisma = () => sut.running.app.get(PrismaService);

  /** The events the batch put in the outbox for these orders, in outbox order. */
  async function answers(...events: OrderPlacedEvent[]) {
    const rows = await prisma().outboxEvent.findMany({
      where: { messageKey: { in: events.map((event) => event.payload.orderId) } },
      orderBy: { id: 'asc' },
    });
    return rows.map((row) => row.payload);
  }

  it('gives the last units to the first of two competing orders and rejects the second with what was left', async () => {
    await putProduct('LAST-1', 3);
    const first = orderPlaced([{ sku: 'LAST-1', quantity: 2 }]);
    const second = orderPlaced([{ sku: 'LAST-1', quantity: 2 }]);
    await reserveAll([first, second]);

    expect(await product('LAST-1')).toMatchObject({ available: 1, reserved: 2 });
    expect(await answers(first, second)).toMatchObject([
      {
        type: 'StockReserved',
        causationId: first.eventId,
        correlationId: first.correlationId,
        payload: { orderId: first.payload.orderId, items: [{ sku: 'LAST-1', quantity: 2 }] },
      },
      {
        type: 'StockReservationRejected',
        causationId: second.eventId,
        correlationId: second.correlationId,
        payload: {
          orderId: second.payload.orderId,
          reason: { code: 'INSUFFICIENT_STOCK', sku: 'LAST-1', requested: 2, available: 1 },
        },
      },
    ]);
    expect(await prisma().reservation.count({ where: { orderId: second.payload.orderId } })).toBe(
      0,
    );
  });

  it('does nothing again for an event of the batch that was handled before', async () => {
    await putProduct('AGAIN-1', 10);
    const handled = orderPlaced([{ sku: 'AGAIN-1', quantity: 3 }]);
    await reserveAll([handled]);
    const fresh = orderPlaced([{ sku: 'AGAIN-1', quantity: 2 }]);
    await reserveAll([handled, fresh]);

    expect(await product('AGAIN-1')).toMatchObject({ available: 5, reserved: 5 });
    expect(await answers(handled)).toHaveLength(1);
    expect(await answers(fresh)).toMatchObject([{ type: 'StockReserved' }]);
    expect(
      await prisma().reservation.findMany({
        where: { sku: 'AGAIN-1' },
        select: { orderId: true, quantity: true },
        orderBy: { quantity: 'asc' },
      }),
    ).toEqual([
      { orderId: fresh.payload.orderId, quantity: 2 },
      { orderId: handled.payload.orderId, quantity: 3 },
    ]);
  });

  it('updates every product the batch names and holds one reservation row per line', async () => {
    await Promise.all([putProduct('SET-1', 10), putProduct('SET-2', 10), putProduct('SET-3', 10)]);
    const batch = [
      orderPlaced([
        { sku: 'SET-1', quantity: 2 },
        { sku: 'SET-2', quantity: 3 },
      ]),
      orderPlaced([
        { sku: 'SET-3', quantity: 1 },
        { sku: 'SET-2', quantity: 4 },
      ]),
      orderPlaced([{ sku: 'SET-1', quantity: 1 }]),
    ];
    await reserveAll(batch);

    expect(await product('SET-1')).toMatchObject({ available: 7, reserved: 3 });
    expect(await product('SET-2')).toMatchObject({ available: 3, reserved: 7 });
    expect(await product('SET-3')).toMatchObject({ available: 9, reserved: 1 });
    const rows = await prisma().reservation.findMany({
      where: { orderId: { in: batch.map((event) => event.payload.orderId) } },
      select: { orderId: true, sku: true, quantity: true, status: true },
    });
    const expected = batch.flatMap((event) =>
      event.payload.items.map((line) => ({
        orderId: event.payload.orderId,
        ...line,
        status: 'HELD',
      })),
    );
    expect(rows).toHaveLength(expected.length);
    expect(rows).toEqual(expect.arrayContaining(expected));
    expect(await answers(...batch)).toMatchObject(
      batch.map((event) => ({ type: 'StockReserved', causationId: event.eventId })),
    );
  });

  it('reserves a run of orders sent to one partition, each once, and announces each', async () => {
    await putProduct('RUN-1', 100);
    const orderId = randomUUID();
    const events = Array.from({ length: 20 }, () =>
      orderPlaced([{ sku: 'RUN-1', quantity: 1 }], randomUUID()),
    );
    // One key, so one partition: the consumer is free to hand them to reserveAll together.
    const deliveries = [];
    for (const event of events) {
      deliveries.push(await producer.send(OrderPlaced.topic, orderId, event));
    }
    await producer.waitUntilConsumed(sut.groupId, OrderPlaced.topic, deliveries.at(-1)!);
    expect(await product('RUN-1')).toMatchObject({ available: 80, reserved: 20 });
    expect(await answers(...events)).toHaveLength(20);
  });
});
