import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createEvent, OrderPlaced, Topics, type OrderPlacedEvent } from '@shop/contracts';
import { resetTopics, TestProducer, testKafkaBrokers, waitFor } from '@shop/devstack';
import { createLogger } from '@shop/logging';
import { KafkaEventServer } from '../src/consumer/kafka-event-server';
import { OnEvent } from '../src/consumer/on-event.decorator';
import { createKafka } from '../src/kafka';

/** What the handler saw, and a way to make it fail the first N times for an order. */
const handled: string[] = [];
const failuresLeft = new Map<string, number>();

@Controller()
class RecordingConsumer {
  @OnEvent(OrderPlaced)
  async onOrderPlaced(event: OrderPlacedEvent): Promise<void> {
    const left = failuresLeft.get(event.payload.orderId) ?? 0;
    if (left > 0) {
      failuresLeft.set(event.payload.orderId, left - 1);
      throw new Error('database unreachable (simulated transient failure)');
    }
    handled.push(event.payload.orderId);
  }
}

@Module({ controllers: [RecordingConsumer] })
class RecordingModule {}

const logger = createLogger({
  service: 'kafka-event-server-test',
  level: 'silent',
  format: 'json',
});
let app: INestMicroservice;
let server: KafkaEventServer;
let producer: TestProducer;

beforeAll(async () => {
  const brokers = testKafkaBrokers();
  await resetTopics(brokers, Object.values(Topics));
  server = new KafkaEventServer({
    kafka: createKafka({ brokers: brokers.split(','), clientId: 'transport-test' }, logger),
    groupId: `transport-test-${randomUUID()}`,
    logger,
    retry: { attempts: 5, initialDelayMs: 50, maxDelayMs: 200 },
  });
  app = await NestFactory.createMicroservice(RecordingModule, { strategy: server, logger: false });
  await app.listen();
  await waitFor(() => server.isReady, { timeoutMs: 30_000, description: 'the consumer to join' });
  producer = await TestProducer.start(brokers);
});

afterAll(async () => {
  await producer?.stop();
  await app?.close();
});

function placed(orderId = randomUUID()): OrderPlacedEvent {
  return createEvent(
    OrderPlaced,
    { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
    { correlationId: orderId, causationId: null },
  );
}

describe('KafkaEventServer, the Nest transport over kafkajs', () => {
  it('subscribes to the topics of the contracts its handlers name', () => {
    expect(server.handledContracts()).toEqual([OrderPlaced]);
  });

  it('hands a valid event to its handler, typed and validated', async () => {
    const event = placed();
    await producer.send(Topics.orderEvents, event.payload.orderId, event);
    await waitFor(() => handled.includes(event.payload.orderId), {
      timeoutMs: 20_000,
      description: 'the event to be handled',
    });
  });

  it('retries a handler that fails for a transient reason until it succeeds, without losing the event', async () => {
    const event = placed();
    failuresLeft.set(event.payload.orderId, 2);
    await producer.send(Topics.orderEvents, event.payload.orderId, event);
    await waitFor(() => handled.includes(event.payload.orderId), {
      timeoutMs: 20_000,
      description: 'the event to be handled after two failures',
    });
    expect(failuresLeft.get(event.payload.orderId)).toBe(0);
  });

  it('skips invalid messages and keeps consuming the partition behind them', async () => {
    const orderId = randomUUID();
    await producer.send(Topics.orderEvents, orderId, 'not json at all');
    await producer.send(Topics.orderEvents, orderId, { ...placed(orderId), payload: { orderId } });
    await producer.send(Topics.orderEvents, orderId, { ...placed(orderId), version: 2 });
    const valid = placed(orderId);
    await producer.send(Topics.orderEvents, orderId, valid);
    await waitFor(() => handled.includes(orderId), {
      timeoutMs: 20_000,
      description: 'the valid event behind three invalid ones',
    });
    expect(handled.filter((id) => id === orderId)).toHaveLength(1);
  });
});
