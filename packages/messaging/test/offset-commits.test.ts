import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { createEvent, OrderPlaced, Topics, type OrderPlacedEvent } from '@shop/contracts';
import {
  devstackKafkaSasl,
  resetTopics,
  TestProducer,
  testKafkaBrokers,
  waitFor,
} from '@shop/devstack';
import { createLogger } from '@shop/logging';
import { deliveryOf } from '../src/consumer/delivery';
import { KafkaEventServer } from '../src/consumer/kafka-event-server';
import { OnEvent } from '../src/consumer/on-event.decorator';
import { createKafka } from '../src/kafka';

/** Which replica handled each order, every time it did. */
const handledBy = new Map<string, string[]>();

@Controller()
class RecordingConsumer {
  @OnEvent(OrderPlaced)
  onOrderPlaced(event: OrderPlacedEvent): void {
    const { orderId } = event.payload;
    handledBy.set(orderId, [...(handledBy.get(orderId) ?? []), deliveryOf(event)?.replica ?? '?']);
  }
}

@Module({ controllers: [RecordingConsumer] })
class RecordingModule {}

const logger = createLogger({ service: 'offset-commits-test', level: 'silent', format: 'json' });
let kafka: Kafka;
let admin: Admin;
let producer: TestProducer;
const running: INestMicroservice[] = [];

beforeAll(async () => {
  const brokers = testKafkaBrokers();
  await resetTopics(brokers, [Topics.orderEvents]);
  kafka = createKafka(
    { brokers: brokers.split(','), clientId: 'offset-commits-test', sasl: devstackKafkaSasl() },
    logger,
  );
  admin = kafka.admin();
  await admin.connect();
  producer = await TestProducer.start(brokers);
});

afterAll(async () => {
  for (const app of running) await app.close();
  await producer?.stop();
  await admin?.disconnect();
});

/** A consumer of the group, with its kafkajs instrumentation: batches handled, commits sent. */
async function startConsumer(groupId: string, replica: string, commitIntervalMs: number) {
  const server = new KafkaEventServer({ kafka, groupId, replica, logger, commitIntervalMs });
  const app = await NestFactory.createMicroservice(RecordingModule, {
    strategy: server,
    logger: false,
  });
  running.push(app);
  await app.listen();
  await waitFor(() => server.isReady, { timeoutMs: 30_000, description: `${replica} to join` });
  const counted = { batches: 0, commits: 0 };
  const consumer = server.unwrap<Consumer>();
  consumer.on(consumer.events.END_BATCH_PROCESS, () => (counted.batches += 1));
  consumer.on(consumer.events.COMMIT_OFFSETS, () => (counted.commits += 1));
  const close = async () => {
    running.splice(running.indexOf(app), 1);
    await app.close();
  };
  return { counted, close };
}

async function sendOrderPlaced(): Promise<string> {
  const orderId = randomUUID();
  const event = createEvent(
    OrderPlaced,
    { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
    { correlationId: orderId, causationId: null },
  );
  await producer.send(Topics.orderEvents, orderId, event);
  return orderId;
}

/** Partitions whose committed offset is behind the end of the log, for the group. */
async function uncommittedPartitions(groupId: string): Promise<number[]> {
  const ends = await admin.fetchTopicOffsets(Topics.orderEvents);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [Topics.orderEvents] });
  return ends
    .filter(({ partition, high }) => {
      const at = committed?.partitions.find((entry) => entry.partition === partition)?.offset;
      return BigInt(high) > 0n && (at === undefined || BigInt(at) < BigInt(high));
    })
    .map(({ partition }) => partition);
}

function handled(orderIds: string[]): boolean {
  return orderIds.every((orderId) => handledBy.has(orderId));
}

describe('consumed offsets, committed per interval', () => {
  it('sends one commit per interval for many batches, and commits the last ones without a further batch', async () => {
    const groupId = `commit-interval-${randomUUID()}`;
    const { counted, close } = await startConsumer(groupId, 'interval#1', 1_000);
    const started = Date.now();
    const orderIds: string[] = [];
    for (let i = 0; i < 30; i++) {
      orderIds.push(await sendOrderPlaced());
      // Apart, so they arrive in separate fetches: at this rate kafkajs committed after each one.
      await sleep(40);
    }
    await waitFor(() => handled(orderIds), { timeoutMs: 30_000, description: '30 orders handled' });
    await waitFor(async () => (await uncommittedPartitions(groupId)).length === 0, {
      timeoutMs: 10_000,
      description: 'every handled offset committed',
    });
    const elapsedMs = Date.now() - started;

    expect(counted.batches).toBeGreaterThanOrEqual(10);
    expect(counted.commits).toBeLessThanOrEqual(Math.ceil(elapsedMs / 1_000) + 1);
    await close();
  });

  it('commits everything handled on a graceful stop, so the next consumer of the group starts right after it', async () => {
    const groupId = `commit-on-stop-${randomUUID()}`;
    const first = await startConsumer(groupId, 'stop#1', 60_000);
    const early = await sendOrderPlaced();
    await waitFor(async () => handled([early]) && first.counted.commits === 1, {
      timeoutMs: 30_000,
      description: 'the first order handled and committed',
    });
    const later = [await sendOrderPlaced(), await sendOrderPlaced(), await sendOrderPlaced()];
    await waitFor(() => handled(later), { timeoutMs: 30_000, description: 'three more handled' });
    // Within the interval they are handled but not committed: only the stop can commit them now.
    expect(await uncommittedPartitions(groupId)).not.toEqual([]);

    await first.close();
    expect(await uncommittedPartitions(groupId)).toEqual([]);

    const second = await startConsumer(groupId, 'stop#2', 60_000);
    const next = await sendOrderPlaced();
    await waitFor(() => handled([next]), { timeoutMs: 30_000, description: 'the next order' });
    expect(handledBy.get(next)).toEqual(['stop#2']);
    for (const orderId of [early, ...later]) expect(handledBy.get(orderId)).toEqual(['stop#1']);
    await second.close();
  });
});
