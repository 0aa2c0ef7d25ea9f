import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Catch,
  Controller,
  Module,
  type ExceptionFilter,
  type INestMicroservice,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Partitioners, type Kafka } from 'kafkajs';
import {
  ALL_TOPICS,
  createEvent,
  OrderCancelled,
  OrderPlaced,
  Topics,
  type OrderCancelledEvent,
  type OrderPlacedEvent,
} from '@shop/contracts';
import {
  devstackKafkaSasl,
  resetTopics,
  TestProducer,
  testKafkaBrokers,
  waitFor,
} from '@shop/devstack';
import { createLogger } from '@shop/logging';
import { deliveryOf, type Delivery } from '../src/consumer/delivery';
import { KafkaEventServer } from '../src/consumer/kafka-event-server';
import { OnEvent, OnEvents } from '../src/consumer/on-event.decorator';
import { createKafka } from '../src/kafka';
import { deadLetterTopic } from '../src/dead-letter';
import { readDeadLetters, replayDeadLetters, type DeadLetter } from '../src/dead-letter-admin';

/** What the handler saw, and a way to make it fail the next N times for an order. */
const handled: string[] = [];
const failures = new Map<string, { left: number; transient: boolean }>();
const attemptsSeen = new Map<string, number>();
const handledEvents: string[] = [];
const deliveries = new Map<string, Delivery | undefined>();
/** Orders whose handler takes this long, to hold a message in flight. */
const slowOrders = new Map<string, number>();

class SimulatedOutage extends Error {}

/** Every call of the batch handler, as the order ids it got; ids in `poisoned` make a call throw. */
const cancelBatches: string[][] = [];
const poisoned = new Set<string>();

@Controller()
class RecordingConsumer {
  @OnEvent(OrderPlaced)
  async onOrderPlaced(event: OrderPlacedEvent): Promise<void> {
    const { orderId } = event.payload;
    attemptsSeen.set(orderId, (attemptsSeen.get(orderId) ?? 0) + 1);
    const failure = failures.get(orderId);
    if (failure && failure.left > 0) {
      failure.left -= 1;
      throw failure.transient
        ? new SimulatedOutage('database unreachable (simulated)')
        : new Error(`order ${orderId} breaks the handler (simulated bug)`);
    }
    await sleep(slowOrders.get(orderId) ?? 0);
    handled.push(orderId);
    handledEvents.push(event.eventId);
    deliveries.set(event.eventId, deliveryOf(event));
  }

  @OnEvents(OrderCancelled)
  async onOrdersCancelled(events: OrderCancelledEvent[]): Promise<void> {
    const orderIds = events.map((event) => event.payload.orderId);
    cancelBatches.push(orderIds);
    const bad = orderIds.find((orderId) => poisoned.has(orderId));
    if (bad) throw new Error(`order ${bad} breaks the batch handler (simulated bug)`);
  }
}

@Module({ controllers: [RecordingConsumer] })
class RecordingModule {}

/** As in the services (their HTTP filter rethrows outside HTTP): the transport sees the handler's own error. */
@Catch()
class RethrowFilter implements ExceptionFilter {
  catch(exception: unknown): never {
    throw exception;
  }
}

const logger = createLogger({
  service: 'kafka-event-server-test',
  level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent',
  format: 'json',
});
const groupId = `transport-test-${randomUUID()}`;
let kafka: Kafka;
let app: INestMicroservice;
let server: KafkaEventServer;
let producer: TestProducer;

beforeAll(async () => {
  const brokers = testKafkaBrokers();
  await resetTopics(brokers, [...ALL_TOPICS, ...ALL_TOPICS.map(deadLetterTopic)]);
  kafka = createKafka(
    { brokers: brokers.split(','), clientId: 'transport-test', sasl: devstackKafkaSasl() },
    logger,
  );
  server = new KafkaEventServer({
    kafka,
    groupId,
    replica: 'transport-test#1',
    logger,
    retry: {
      attempts: 3,
      initialDelayMs: 50,
      maxDelayMs: 200,
      isTransient: (error) => error instanceof SimulatedOutage,
      transientRetryForMs: 60_000,
    },
  });
  app = await NestFactory.createMicroservice(RecordingModule, { strategy: server, logger: false });
  app.useGlobalFilters(new RethrowFilter());
  await app.listen();
  await waitFor(() => server.isReady, { timeoutMs: 30_000, description: 'the consumer to join' });
  producer = await TestProducer.start(brokers);
});

afterAll(async () => {
  await producer?.stop();
  await app?.close();
});

function cancelled(orderId: string = randomUUID()): OrderCancelledEvent {
  return createEvent(
    OrderCancelled,
    {
      orderId,
      customerEmail: 'ada@example.com',
      items: [{ sku: 'A-1', quantity: 1 }],
      previousStatus: 'PENDING',
    },
    { correlationId: orderId, causationId: null },
  );
}

/** One produce request: the events land together, so the consumer fetches them in one batch. */
async function sendTogether(events: Array<OrderPlacedEvent | OrderCancelledEvent>): Promise<void> {
  const sender = kafka.producer();
  await sender.connect();
  await sender.send({
    topic: Topics.orderEvents,
    acks: -1,
    messages: events.map((event) => ({ key: event.payload.orderId, value: JSON.stringify(event) })),
  });
  await sender.disconnect();
}

/** Every order id the batch handler was called with, in call order. */
function cancelledSeen(): string[] {
  return cancelBatches.flat();
}

function placed(orderId: string = randomUUID()): OrderPlacedEvent {
  return createEvent(
    OrderPlaced,
    { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
    { correlationId: orderId, causationId: null },
  );
}

describe('KafkaEventServer, the Nest transport over kafkajs', () => {
  it('subscribes to the topics of the contracts its handlers name', () => {
    expect(server.handledContracts()).toEqual([OrderPlaced, OrderCancelled]);
  });

  it('hands a valid event to its handler, typed and validated', async () => {
    const event = placed();
    await producer.send(Topics.orderEvents, event.payload.orderId, event);
    await waitFor(() => handled.includes(event.payload.orderId), {
      timeoutMs: 20_000,
      description: 'the event to be handled',
    });
  });

  it('tells the handler the topic, partition and offset it read the event from, and its replica', async () => {
    const event = placed();
    const sentBefore = Date.now();
    const sentAt = await producer.send(Topics.orderEvents, event.payload.orderId, event);
    await waitFor(() => deliveries.has(event.eventId), {
      timeoutMs: 20_000,
      description: 'the event to be handled',
    });
    expect(deliveries.get(event.eventId)).toEqual({
      topic: Topics.orderEvents,
      partition: sentAt.partition,
      offset: sentAt.offset,
      replica: 'transport-test#1',
      fetchedAt: expect.any(Number),
    });
    const fetchedAt = deliveries.get(event.eventId)?.fetchedAt ?? 0;
    expect(fetchedAt).toBeGreaterThanOrEqual(sentBefore);
    expect(fetchedAt).toBeLessThanOrEqual(Date.now());
  });

  it('fetches nothing while paused on request, and goes on from the same place once resumed', async () => {
    server.pauseConsumption();
    expect(server.figures()).toMatchObject({ paused: true });
    try {
      const event = placed();
      await producer.send(Topics.orderEvents, event.payload.orderId, event);
      // An observation window, not a wait for a condition: several fetch cycles (500 ms each) pass.
      const before = Date.now();
      while (Date.now() - before < 2_000) {
        expect(handled).not.toContain(event.payload.orderId);
        await sleep(100);
      }
      server.resumeConsumption();
      await waitFor(() => handled.includes(event.payload.orderId), {
        timeoutMs: 20_000,
        description: 'the event to be handled after resuming',
      });
    } finally {
      server.resumeConsumption();
    }
    expect(server.figures()).toMatchObject({ paused: false });
  });

  it('retries a failing handler with backoff until it succeeds, without losing the event', async () => {
    const event = placed();
    failures.set(event.payload.orderId, { left: 2, transient: false });
    await producer.send(Topics.orderEvents, event.payload.orderId, event);
    await waitFor(() => handled.includes(event.payload.orderId), {
      timeoutMs: 20_000,
      description: 'the event to be handled after two failures',
    });
    expect(attemptsSeen.get(event.payload.orderId)).toBe(3);
  });

  it('keeps retrying a transient failure past the attempt limit instead of dead-lettering it', async () => {
    const event = placed();
    failures.set(event.payload.orderId, { left: 6, transient: true });
    await producer.send(Topics.orderEvents, event.payload.orderId, event);
    await waitFor(() => handled.includes(event.payload.orderId), {
      timeoutMs: 30_000,
      description: 'the event to be handled after six transient failures',
    });
    expect(attemptsSeen.get(event.payload.orderId)).toBe(7);
    expect(await lettersAbout(event.payload.orderId)).toEqual([]);
  });

  it('does not hold up other partitions while one message waits for its retry', async () => {
    const stuck = placed();
    failures.set(stuck.payload.orderId, { left: 1_000, transient: true });
    const stuckAt = await producer.send(Topics.orderEvents, stuck.payload.orderId, stuck);
    await waitFor(() => (attemptsSeen.get(stuck.payload.orderId) ?? 0) >= 2, {
      timeoutMs: 20_000,
      description: 'the stuck event to have failed twice',
    });
    const other = await placedOnAnotherPartition(stuckAt.partition);
    await waitFor(() => handled.includes(other.payload.orderId), {
      timeoutMs: 20_000,
      description: 'an event on another partition to be handled meanwhile',
    });
    expect(handled).not.toContain(stuck.payload.orderId);
    failures.delete(stuck.payload.orderId);
    await waitFor(() => handled.includes(stuck.payload.orderId), {
      timeoutMs: 20_000,
      description: 'the stuck event to be handled once its failure has passed',
    });
  });

  it('handles other orders of a batch while one is slow, and one order strictly in order', async () => {
    const slow = placed();
    const second = placed(slow.payload.orderId);
    const fast = placed(orderIdOnPartition(partitionOf(slow.payload.orderId)));
    slowOrders.set(slow.payload.orderId, 3_000);
    await sendTogether([slow, second, fast]);

    await waitFor(() => handled.includes(fast.payload.orderId), {
      timeoutMs: 20_000,
      description: 'an order of the same batch to be handled beside the slow one',
    });
    expect(handledEvents).not.toContain(slow.eventId);
    await waitFor(() => handledEvents.includes(second.eventId), {
      timeoutMs: 20_000,
      description: 'the slow order to be handled',
    });
    const slowOrder = handledEvents.filter((id) => id === slow.eventId || id === second.eventId);
    expect(slowOrder).toEqual([slow.eventId, second.eventId]);
  });

  it('hands consecutive events of a batch contract to its handler in one call, in order, once each', async () => {
    const partition = partitionOf(randomUUID());
    const events = Array.from({ length: 5 }, () => cancelled(orderIdOnPartition(partition)));
    const repeated = events[1] as OrderCancelledEvent;
    await sendTogether([...events, repeated]);
    const ids = events.map((event) => event.payload.orderId);
    await waitFor(() => ids.every((id) => cancelledSeen().includes(id)), {
      timeoutMs: 20_000,
      description: 'the cancellations to reach the batch handler',
    });
    expect(cancelBatches).toContainEqual(ids);
    expect(cancelledSeen().filter((id) => ids.includes(id))).toEqual(ids);
  });

  it('hands the events of a failed batch over one at a time, so only the bad one is retried and dead-lettered', async () => {
    const partition = partitionOf(randomUUID());
    const events = Array.from({ length: 4 }, () => cancelled(orderIdOnPartition(partition)));
    const bad = events[2] as OrderCancelledEvent;
    poisoned.add(bad.payload.orderId);
    const behind = placed(orderIdOnPartition(partition));
    await sendTogether([...events, behind]);
    await waitFor(() => handled.includes(behind.payload.orderId), {
      timeoutMs: 30_000,
      description: 'the event behind the failed batch to be handled',
    });
    const ids = events.map((event) => event.payload.orderId);
    const calls = cancelBatches.filter((batch) => batch.some((id) => ids.includes(id)));
    expect(calls[0]).toEqual(ids);
    const alone = calls.slice(1);
    expect(alone.every((batch) => batch.length === 1)).toBe(true);
    for (const id of ids.filter((id) => id !== bad.payload.orderId)) {
      expect(alone.filter(([only]) => only === id)).toHaveLength(1);
    }
    expect(alone.filter(([only]) => only === bad.payload.orderId)).toHaveLength(3);
    const [letter] = await lettersAbout(bad.payload.orderId);
    expect(letter).toMatchObject({ reason: 'handler-failed', attempts: 3, eventId: bad.eventId });
  });

  it('dead-letters an event whose handler fails on every attempt, with headers saying why, and moves on', async () => {
    const orderId = randomUUID();
    const broken = placed(orderId);
    const letteredBefore = server.figures().deadLettered;
    failures.set(orderId, { left: Number.POSITIVE_INFINITY, transient: false });
    const brokenAt = await producer.send(Topics.orderEvents, orderId, broken);
    const behind = placed();
    await producer.send(Topics.orderEvents, orderId, behind);
    await waitFor(() => handled.includes(behind.payload.orderId), {
      timeoutMs: 20_000,
      description: 'the event behind the broken one to be handled',
    });
    expect(attemptsSeen.get(orderId)).toBe(3);
    const [letter] = await lettersAbout(orderId);
    expect(letter).toMatchObject({
      reason: 'handler-failed',
      attempts: 3,
      originalTopic: Topics.orderEvents,
      originalPartition: brokenAt.partition,
      originalOffset: brokenAt.offset,
      consumerGroup: groupId,
      eventType: OrderPlaced.type,
      eventId: broken.eventId,
    });
    expect(letter?.error).toContain('simulated bug');
    expect(letter?.value?.toString()).toBe(JSON.stringify(broken));
    expect(Date.now() - (letter?.failedAt.getTime() ?? 0)).toBeLessThan(60_000);
    expect(server.figures()).toMatchObject({
      deadLettered: letteredBefore + 1,
      lastDeadLetter: { topic: Topics.orderEvents, reason: 'handler-failed' },
    });

    // Once the handler is fixed, a replay delivers the very same event again.
    failures.delete(orderId);
    expect(await replayDeadLetters(kafka, letter ? [letter] : [])).toBe(1);
    await waitFor(() => handled.includes(orderId), {
      timeoutMs: 20_000,
      description: 'the replayed event to be handled',
    });
  });

  it('skips, without reading its body, a message whose event-type header names an event it does not handle', async () => {
    const orderId = randomUUID();
    const sender = kafka.producer();
    await sender.connect();
    await sender.send({
      topic: Topics.orderEvents,
      acks: -1,
      messages: [
        { key: orderId, value: `not json ${orderId}`, headers: { 'event-type': 'OrderConfirmed' } },
        {
          key: orderId,
          value: JSON.stringify(placed(orderId)),
          headers: { 'event-type': 'OrderPlaced' },
        },
      ],
    });
    await sender.disconnect();
    await waitFor(() => handled.includes(orderId), {
      timeoutMs: 20_000,
      description: 'the event behind the skipped one to be handled',
    });
    expect(await lettersAbout(orderId)).toEqual([]);
  });

  it('dead-letters invalid messages at once and keeps consuming the partition behind them', async () => {
    const orderId = randomUUID();
    const notJson = `not json at all ${orderId}`;
    await producer.send(Topics.orderEvents, orderId, notJson);
    await producer.send(Topics.orderEvents, orderId, { ...placed(orderId), payload: { orderId } });
    await producer.send(Topics.orderEvents, orderId, { ...placed(orderId), version: 2 });
    const valid = placed(orderId);
    await producer.send(Topics.orderEvents, orderId, valid);
    await waitFor(() => handled.includes(orderId), {
      timeoutMs: 20_000,
      description: 'the valid event behind three invalid ones',
    });
    expect(handled.filter((id) => id === orderId)).toHaveLength(1);
    expect(attemptsSeen.get(orderId)).toBe(1);

    const letters = await lettersAbout(orderId);
    expect(letters.map((letter) => [letter.reason, letter.attempts])).toEqual([
      ['invalid-event', 1],
      ['invalid-event', 1],
      ['invalid-event', 1],
    ]);
    expect(letters[0]?.value?.toString()).toBe(notJson);
    expect(letters[0]?.error).toMatch(/not JSON/);
    expect(letters[1]?.error).toMatch(/payload/);
    expect(letters[2]?.error).toMatch(/version 2 is unknown/);
  });
});

/** The dead letters of this test's group whose message mentions the order id. */
async function lettersAbout(orderId: string): Promise<DeadLetter[]> {
  const letters = await readDeadLetters(kafka, [deadLetterTopic(Topics.orderEvents)]);
  return letters.filter(
    (letter) => letter.consumerGroup === groupId && letter.value?.toString().includes(orderId),
  );
}

/** An OrderPlaced whose key lands on a partition other than the given one. */
async function placedOnAnotherPartition(partition: number): Promise<OrderPlacedEvent> {
  for (;;) {
    const event = placed();
    const at = await producer.send(Topics.orderEvents, event.payload.orderId, event);
    if (at.partition !== partition) return event;
  }
}

/** The partition the producer's default partitioner picks for a key. */
function partitionOf(key: string): number {
  const pick = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return pick({ topic: Topics.orderEvents, partitionMetadata, message: { key, value: null } });
}

function orderIdOnPartition(partition: number): string {
  for (;;) {
    const orderId = randomUUID();
    if (partitionOf(orderId) === partition) return orderId;
  }
}
