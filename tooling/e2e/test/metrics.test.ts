import { Topics } from '@shop/contracts';
import {
  authHeader,
  pauseTestKafka,
  requestJson,
  scrapeMetrics,
  testKafkaBrokers,
  TestProducer,
  waitFor,
  type MetricSamples,
} from '@shop/devstack';
import {
  getOrder,
  placeOrder,
  putProduct,
  startTestStack,
  type Order,
  type TestStack,
} from './stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
  await putProduct(stack, 'METRICS-01', 1_000);
});

afterAll(async () => {
  await stack?.stop();
});

const scrape = {
  order: () => scrapeMetrics(stack.order.baseUrl),
  inventory: () => scrapeMetrics(stack.inventory.baseUrl),
  notification: () => scrapeMetrics(stack.notification.baseUrl),
};

async function placeAndConfirm(count: number): Promise<Order[]> {
  const orders = await Promise.all(
    Array.from({ length: count }, () => placeOrder(stack, [{ sku: 'METRICS-01', quantity: 1 }])),
  );
  await waitFor(
    async () =>
      (await Promise.all(orders.map((order) => getOrder(stack, order.id)))).every(
        (order) => order.status === 'CONFIRMED',
      ),
    { timeoutMs: 30_000, intervalMs: 100, description: `${count} orders to be CONFIRMED` },
  );
  return orders;
}

/** Waits until a scrape satisfies the condition; returns that scrape. */
async function scrapeUntil(
  read: () => Promise<MetricSamples>,
  condition: (metrics: MetricSamples) => boolean,
  description: string,
): Promise<MetricSamples> {
  return waitFor(
    async () => {
      const metrics = await read();
      return condition(metrics) ? metrics : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200, description },
  );
}

describe('/metrics of every service', () => {
  it('counts what a few orders did at every hop: requests, publishes, handlers, batches, emails', async () => {
    const before = {
      order: await scrape.order(),
      inventory: await scrape.inventory(),
      notification: await scrape.notification(),
    };
    await placeAndConfirm(5);

    const order = await scrape.order();
    const placedRequests = { method: 'POST', route: '/orders', status_code: '202' };
    expect(
      order.sum('http_server_request_duration_seconds_count', placedRequests) -
        before.order.sum('http_server_request_duration_seconds_count', placedRequests),
    ).toBe(5);
    // OrderPlaced and OrderConfirmed of each order left the order service's outbox.
    const published = { topic: Topics.orderEvents };
    expect(
      order.sum('outbox_relay_publish_latency_seconds_count', published) -
        before.order.sum('outbox_relay_publish_latency_seconds_count', published),
    ).toBe(10);
    const reserved = { event_type: 'StockReserved' };
    expect(
      order.sum('kafka_consumer_batch_size_sum', reserved) -
        before.order.sum('kafka_consumer_batch_size_sum', reserved),
    ).toBe(5);
    expect(order.sum('kafka_consumer_handler_duration_seconds_count', reserved)).toBeGreaterThan(
      before.order.sum('kafka_consumer_handler_duration_seconds_count', reserved),
    );

    const inventory = await scrape.inventory();
    const placed = { event_type: 'OrderPlaced' };
    expect(
      inventory.sum('kafka_consumer_batch_size_sum', placed) -
        before.inventory.sum('kafka_consumer_batch_size_sum', placed),
    ).toBe(5);
    expect(
      inventory.sum('outbox_relay_publish_latency_seconds_count', {
        topic: Topics.inventoryEvents,
      }) -
        before.inventory.sum('outbox_relay_publish_latency_seconds_count', {
          topic: Topics.inventoryEvents,
        }),
    ).toBe(5);

    const sent = { type: 'ORDER_CONFIRMED', outcome: 'sent' };
    const notification = await scrapeUntil(
      scrape.notification,
      (metrics) =>
        metrics.sum('notification_email_sends_total', sent) -
          before.notification.sum('notification_email_sends_total', sent) ===
        5,
      'five confirmation emails counted as sent',
    );
    expect(notification.sum('notification_email_sends_total', { outcome: 'failed' })).toBe(0);
    for (const metrics of [order, inventory, notification]) {
      expect(metrics.sum('db_pool_max_connections')).toBe(6);
      expect(metrics.has('db_pool_connections', { state: 'in_use' })).toBe(true);
      expect(metrics.has('process_cpu_seconds_total')).toBe(true);
    }
  });

  it("shows a paused consumer's lag growing with the orders it has not read, then draining", async () => {
    const lagOf = (metrics: MetricSamples) =>
      metrics.sum('kafka_consumer_lag_messages', { topic: Topics.orderEvents });
    await scrapeUntil(scrape.inventory, (metrics) => lagOf(metrics) === 0, 'no inventory lag');
    const paused = await requestJson(
      'POST',
      `${stack.inventory.baseUrl}/internal/consumer/pause`,
      undefined,
      await authHeader('shop-operator'),
    );
    expect(paused.status).toBe(200);
    try {
      await Promise.all(
        Array.from({ length: 4 }, () => placeOrder(stack, [{ sku: 'METRICS-01', quantity: 1 }])),
      );
      const behind = await scrapeUntil(
        scrape.inventory,
        (metrics) => lagOf(metrics) >= 4,
        'inventory to lag four OrderPlaced behind',
      );
      expect(behind.has('kafka_consumer_lag_messages', { partition: '0' })).toBe(true);
    } finally {
      await requestJson(
        'POST',
        `${stack.inventory.baseUrl}/internal/consumer/resume`,
        undefined,
        await authHeader('shop-operator'),
      );
    }
    await scrapeUntil(scrape.inventory, (metrics) => lagOf(metrics) === 0, 'the lag to drain');
  });

  it('shows the outbox backlog and its age while Kafka is unreachable, then empties it', async () => {
    const backlogOf = (metrics: MetricSamples) => metrics.sum('outbox_backlog_events');
    await scrapeUntil(scrape.order, (metrics) => backlogOf(metrics) === 0, 'an empty outbox');
    const resume = pauseTestKafka();
    try {
      await Promise.all(
        Array.from({ length: 3 }, () => placeOrder(stack, [{ sku: 'METRICS-01', quantity: 1 }])),
      );
      const waiting = await scrapeUntil(
        scrape.order,
        (metrics) =>
          backlogOf(metrics) === 3 && metrics.sum('outbox_oldest_unsent_age_seconds') > 0,
        'three rows waiting in the order outbox',
      );
      // The lag could not be read from the frozen broker: it is left out, the scrape still answers.
      expect(waiting.has('kafka_consumer_lag_messages')).toBe(false);
    } finally {
      resume();
    }
    const emptied = await scrapeUntil(
      scrape.order,
      (metrics) => backlogOf(metrics) === 0,
      'the outbox to empty once Kafka is back',
    );
    expect(emptied.sum('outbox_oldest_unsent_age_seconds')).toBe(0);
  });

  it('counts a message no consumer can read as a dead letter of each group that met it', async () => {
    const reason = { topic: Topics.orderEvents, reason: 'invalid-event' };
    const before = {
      inventory: (await scrape.inventory()).sum('kafka_consumer_dead_letters_total', reason),
      notification: (await scrape.notification()).sum('kafka_consumer_dead_letters_total', reason),
    };
    const producer = await TestProducer.start(testKafkaBrokers());
    try {
      await producer.send(Topics.orderEvents, 'metrics-poison', '{"type":"OrderPlaced"');
    } finally {
      await producer.stop();
    }
    for (const [service, read] of [
      ['inventory', scrape.inventory],
      ['notification', scrape.notification],
    ] as const) {
      await scrapeUntil(
        read,
        (metrics) =>
          metrics.sum('kafka_consumer_dead_letters_total', reason) === before[service] + 1,
        `${service} to count one dead letter`,
      );
    }
  });
});
