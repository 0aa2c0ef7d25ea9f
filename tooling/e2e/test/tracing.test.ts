import {
  authHeader,
  requestJson,
  scrapeMetrics,
  startSpanCollector,
  type SpanCollector,
  type ZipkinSpan,
} from '@shop/devstack';
import {
  getOrder,
  placeOrder,
  putProduct,
  startTestStack,
  type Order,
  type TestStack,
} from './stack';

let collector: SpanCollector;
let stack: TestStack;

beforeAll(async () => {
  collector = await startSpanCollector();
  stack = await startTestStack({
    env: {
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await collector?.stop();
});

const serviceOf = (span: ZipkinSpan) => span.localEndpoint?.serviceName;
const eventIdOf = (span: ZipkinSpan) => span.tags?.['messaging.message.id'];

describe('one trace per order', () => {
  it('follows an order from POST /orders through the outbox, Kafka and every consumer to the SMTP send, as one tree', async () => {
    await putProduct(stack, 'TRACE-01', 10);
    const order = await placeOrder(stack, [{ sku: 'TRACE-01', quantity: 1 }]);
    await stack.smtp.waitForMessages((mail) => mail.to.includes(order.customerEmail), 1);
    expect((await getOrder(stack, order.id)).status).toBe('CONFIRMED');

    // The email is the last hop: once its send span arrives, the trace is complete.
    const trace = await collector.waitFor((spans) => {
      const request = spans.find(
        (span) =>
          serviceOf(span) === 'order-service' &&
          span.kind === 'SERVER' &&
          (span.tags?.['url.path'] ?? span.tags?.['http.target']) === '/orders',
      );
      if (!request) return undefined;
      const inTrace = spans.filter((span) => span.traceId === request.traceId);
      return inTrace.some((span) => span.name === 'smtp send') ? { request, inTrace } : undefined;
    }, 'the spans of the order, from its POST to its SMTP send');

    const { request, inTrace } = trace;
    const byId = new Map(inTrace.map((span) => [span.id, span]));
    // One tree: every span but the request has its parent in the same trace.
    for (const span of inTrace) {
      if (span === request) continue;
      expect({ span: span.name, parentFound: byId.has(span.parentId ?? '') }).toEqual({
        span: span.name,
        parentFound: true,
      });
    }

    const sends = inTrace.filter((span) => span.kind === 'PRODUCER');
    const processes = inTrace.filter((span) => span.kind === 'CONSUMER');
    // OrderPlaced, StockReserved, OrderConfirmed leave through an outbox each.
    expect(sends.map((span) => span.tags?.['shop.event.type']).sort()).toEqual([
      'OrderConfirmed',
      'OrderPlaced',
      'StockReserved',
    ]);
    // Each consumer's handling is a child of the send of its own event, never merely linked.
    expect(processes.length).toBeGreaterThanOrEqual(3);
    for (const process of processes) {
      const parent = byId.get(process.parentId ?? '');
      expect({ process: process.name, parent: parent?.kind, event: eventIdOf(parent!) }).toEqual({
        process: process.name,
        parent: 'PRODUCER',
        event: eventIdOf(process),
      });
    }
    expect(new Set(processes.map(serviceOf))).toEqual(
      new Set(['inventory-service', 'order-service', 'notification-service']),
    );

    // The order's database statements are in the trace, in the service that ran them.
    const statements = inTrace.filter(
      (span) => (span.tags?.['db.system.name'] ?? span.tags?.['db.system']) === 'postgresql',
    );
    expect(new Set(statements.map(serviceOf))).toEqual(
      new Set(['order-service', 'inventory-service', 'notification-service']),
    );

    // The email continues the trace of the OrderConfirmed its consumer handled.
    const smtp = inTrace.find((span) => span.name === 'smtp send')!;
    const asked = byId.get(smtp.parentId ?? '');
    expect(asked?.kind).toBe('CONSUMER');
    expect(serviceOf(asked!)).toBe('notification-service');
    const confirmed = sends.find((span) => span.tags?.['shop.event.type'] === 'OrderConfirmed');
    expect(eventIdOf(asked!)).toBe(eventIdOf(confirmed!));
  });

  it('keeps every order in its own trace when consumers handle many at once', async () => {
    await putProduct(stack, 'TRACE-02', 100);
    // Inventory paused while the orders arrive: once resumed, it fetches them in batches.
    await requestJson(
      'POST',
      `${stack.inventory.baseUrl}/internal/consumer/pause`,
      undefined,
      await authHeader('shop-operator'),
    );
    let orders: Order[];
    try {
      orders = await Promise.all(
        Array.from({ length: 20 }, () => placeOrder(stack, [{ sku: 'TRACE-02', quantity: 1 }])),
      );
    } finally {
      await requestJson(
        'POST',
        `${stack.inventory.baseUrl}/internal/consumer/resume`,
        undefined,
        await authHeader('shop-operator'),
      );
    }
    const emails = new Set(orders.map((order) => order.customerEmail));
    await stack.smtp.waitForMessages((mail) => mail.to.some((to) => emails.has(to)), 20);

    const traces = await collector.waitFor((spans) => {
      const requests = spans.filter(
        (span) =>
          serviceOf(span) === 'order-service' &&
          span.kind === 'SERVER' &&
          (span.tags?.['url.path'] ?? span.tags?.['http.target']) === '/orders',
      );
      const complete = requests.filter((request) =>
        spans.some((span) => span.traceId === request.traceId && span.name === 'smtp send'),
      );
      return complete.length >= 21 ? complete.map((request) => request.traceId) : undefined;
    }, 'the traces of 21 orders, each ending at its SMTP send');

    const spans = collector.spans();
    const byId = new Map(spans.map((span) => [span.id, span]));
    for (const traceId of new Set(traces)) {
      const inTrace = spans.filter((span) => span.traceId === traceId);
      const placed = inTrace.filter((span) => span.tags?.['shop.event.type'] === 'OrderPlaced');
      const reserved = inTrace.find(
        (span) => span.kind === 'PRODUCER' && span.tags?.['shop.event.type'] === 'StockReserved',
      );
      // Inventory's answer continues the handling of this order's OrderPlaced, not a neighbour's
      // in the same batch.
      const handling = byId.get(reserved?.parentId ?? '');
      expect(handling?.kind).toBe('CONSUMER');
      expect(eventIdOf(handling!)).toBe(
        eventIdOf(placed.find((span) => span.kind === 'PRODUCER')!),
      );
    }
    expect(new Set(traces).size).toBe(traces.length);
    const inventory = await scrapeMetrics(stack.inventory.baseUrl);
    const placed = { event_type: 'OrderPlaced' };
    expect(inventory.sum('kafka_consumer_batch_size_bucket', { ...placed, le: '1' })).toBeLessThan(
      inventory.sum('kafka_consumer_batch_size_count', placed),
    );
  });
});
