import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { ALL_TOPICS, deadLetterTopic, Topics } from '@shop/contracts';
import { devstackKafkaSasl, testKafkaBrokers, waitFor } from '@shop/devstack';
import type { KafkaPrincipal } from '@shop/kafka-access';
import { createLogger } from '@shop/logging';
import { deadLetterTopics, readDeadLetters, replayDeadLetters } from '../src/dead-letter-admin';
import { toDeadLetter } from '../src/dead-letter';
import { createKafka } from '../src/kafka';
import { requireTopics } from '../src/topics';

// The broker the tests run on is configured and provisioned as every deployment is: SASL/SCRAM
// only, allow.everyone.if.no.acl.found=false, ACLs from @shop/kafka-access's table.
const logger = createLogger({ service: 'kafka-access-test', level: 'silent', format: 'json' });
const brokers = () => testKafkaBrokers().split(',');
const open: Array<{ disconnect(): Promise<void> }> = [];

function kafkaAs(principal: KafkaPrincipal | 'admin', password?: string): Kafka {
  const sasl = devstackKafkaSasl(principal);
  return createKafka(
    {
      brokers: brokers(),
      clientId: `access-test-${principal}`,
      sasl: { ...sasl, password: password ?? sasl.password },
    },
    logger,
  );
}

async function connected<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  client: T,
): Promise<T> {
  open.push(client);
  await client.connect();
  return client;
}

async function publish(kafka: Kafka, topic: string): Promise<void> {
  const producer = await connected(kafka.producer({ retry: { retries: 0 } }));
  await producer.send({ topic, messages: [{ key: randomUUID(), value: '{"forged":true}' }] });
}

async function endOffsets(admin: Admin, topic: string): Promise<number> {
  const partitions = await admin.fetchTopicOffsets(topic);
  return partitions.reduce((sum, { high }) => sum + Number(high), 0);
}

/** Who tries to publish where, and what that would forge if it were allowed. */
const FORGERIES: Array<[KafkaPrincipal, string, string]> = [
  [
    'inventory-service',
    Topics.orderEvents,
    'an OrderConfirmed the notification service would mail',
  ],
  ['notification-service', Topics.orderEvents, 'any order event'],
  ['order-service', Topics.inventoryEvents, 'a StockReserved that moves stock'],
  ['notification-service', Topics.inventoryEvents, 'any inventory event'],
  ['flow-console', Topics.orderEvents, 'anything, being an observer'],
];

const NOT_AUTHORIZED_FOR_TOPIC = /Not authorized to access topics/;

let admin: Admin;

beforeAll(async () => {
  admin = await connected(kafkaAs('admin').admin());
});

afterEach(async () => {
  await Promise.allSettled(open.splice(1).map((client) => client.disconnect()));
});

afterAll(async () => {
  await Promise.allSettled(open.splice(0).map((client) => client.disconnect()));
});

describe('Kafka authentication and ACLs', () => {
  it.each(FORGERIES)(
    'refuses %s writing to %s (it cannot forge %s), and nothing lands',
    async (principal, topic, _forgery) => {
      const before = await endOffsets(admin, topic);
      await expect(publish(kafkaAs(principal), topic)).rejects.toThrow(NOT_AUTHORIZED_FOR_TOPIC);
      expect(await endOffsets(admin, topic)).toBe(before);
    },
  );

  it.each([
    ['order-service', Topics.orderEvents],
    ['inventory-service', Topics.inventoryEvents],
    ['notification-service', deadLetterTopic(Topics.orderEvents)],
    ['operator', Topics.orderEvents],
  ] as const)('lets %s write to %s, which it owns', async (principal, topic) => {
    const before = await endOffsets(admin, topic);
    await publish(kafkaAs(principal), topic);
    expect(await endOffsets(admin, topic)).toBe(before + 1);
  });

  it('refuses a client that does not authenticate, and nothing lands', async () => {
    const before = await endOffsets(admin, Topics.orderEvents);
    const anonymous = new Kafka({
      clientId: 'access-test-anonymous',
      brokers: brokers(),
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    // The broker closes a connection that skips the SASL handshake.
    await expect(publish(anonymous, Topics.orderEvents)).rejects.toThrow(/closed connection/i);
    expect(await endOffsets(admin, Topics.orderEvents)).toBe(before);
  });

  it('refuses a known principal with a wrong password', async () => {
    await expect(
      publish(kafkaAs('order-service', 'not-the-password'), Topics.orderEvents),
    ).rejects.toMatchObject({
      name: 'KafkaJSSASLAuthenticationError',
      message: expect.stringMatching(/invalid credentials/),
    });
  });

  it('refuses a service reading a topic it does not consume', async () => {
    const consumer = await connected(
      kafkaAs('notification-service').consumer({ groupId: `notification-service-${randomUUID()}` }),
    );
    await expect(
      consumer.subscribe({ topics: [Topics.inventoryEvents], fromBeginning: true }),
    ).rejects.toThrow(NOT_AUTHORIZED_FOR_TOPIC);
  });

  it("refuses a service joining or inspecting another service's consumer group", async () => {
    // kafkajs reports a refused group as "Failed to find group coordinator"; the broker's answer
    // (GROUP_AUTHORIZATION_FAILED) is only in its log, so this client keeps that log.
    const refusals: string[] = [];
    const kafka = new Kafka({
      clientId: 'access-test-group-intruder',
      brokers: brokers(),
      sasl: devstackKafkaSasl('notification-service'),
      // A new group's coordinator may still be loading: that is retried, a refusal is not.
      retry: { initialRetryTime: 200, retries: 8 },
      logLevel: logLevel.DEBUG,
      logCreator:
        () =>
        ({ log }) => {
          const { error, groupId } = log as { error?: { type?: string }; groupId?: string };
          if (error?.type === 'GROUP_AUTHORIZATION_FAILED') refusals.push(String(groupId));
        },
    });
    const intruder = await connected(kafka.admin());
    const ownGroup = `notification-service-${randomUUID()}`;
    await expect(
      intruder.fetchOffsets({ groupId: ownGroup, topics: [Topics.orderEvents] }),
    ).resolves.toHaveLength(1);
    await expect(
      intruder.fetchOffsets({ groupId: 'inventory-service', topics: [Topics.orderEvents] }),
    ).rejects.toThrow(/group coordinator/);

    const consumer = await connected(kafka.consumer({ groupId: 'inventory-service' }));
    const crash = crashOf(consumer);
    await consumer.subscribe({ topics: [Topics.orderEvents] });
    await consumer.run({ eachMessage: async () => undefined });
    await waitFor(() => crash.error !== undefined, {
      timeoutMs: 30_000,
      description: 'the consumer in a foreign group to be refused',
    });
    expect(new Set(refusals)).toEqual(new Set(['inventory-service']));
  });

  it('refuses a service creating topics (only the admin provisions them)', async () => {
    const service = await connected(kafkaAs('order-service').admin());
    await expect(
      service.createTopics({ topics: [{ topic: `rogue-${randomUUID()}`, numPartitions: 1 }] }),
    ).rejects.toMatchObject({ errors: [{ type: 'TOPIC_AUTHORIZATION_FAILED' }] });
  });

  it('lets the console read every topic in its own group, but not write', async () => {
    await publish(kafkaAs('order-service'), Topics.orderEvents);
    const consumer = await connected(
      kafkaAs('flow-console').consumer({ groupId: `flow-console-${randomUUID()}` }),
    );
    let received = 0;
    await consumer.subscribe({
      topics: [Topics.orderEvents, deadLetterTopic(Topics.inventoryEvents)],
      fromBeginning: true,
    });
    await consumer.run({ eachMessage: async () => void (received += 1) });
    await waitFor(() => received > 0, {
      timeoutMs: 30_000,
      description: 'the console to read order-events',
    });
    await expect(publish(kafkaAs('flow-console'), Topics.orderEvents)).rejects.toThrow(
      NOT_AUTHORIZED_FOR_TOPIC,
    );
  });

  it('lets the operator (pnpm dlq) list and replay dead letters, and read nothing else', async () => {
    const key = randomUUID();
    const producer = await connected(kafkaAs('notification-service').producer());
    await producer.send({
      topic: deadLetterTopic(Topics.orderEvents),
      messages: [
        toDeadLetter(
          { key: Buffer.from(key), value: Buffer.from('{}'), headers: {}, offset: '7' },
          {
            reason: 'handler-failed',
            error: 'test',
            attempts: 3,
            topic: Topics.orderEvents,
            partition: 0,
            consumerGroup: 'notification-service',
            failedAt: new Date(),
          },
        ),
      ],
    });

    const operator = kafkaAs('operator');
    const topics = await deadLetterTopics(operator);
    expect(topics).toEqual(ALL_TOPICS.map(deadLetterTopic).sort());
    const letters = await readDeadLetters(operator, topics);
    const ours = letters.filter((letter) => letter.key?.toString() === key);
    expect(ours).toHaveLength(1);
    const before = await endOffsets(admin, Topics.orderEvents);
    expect(await replayDeadLetters(operator, ours)).toBe(1);
    expect(await endOffsets(admin, Topics.orderEvents)).toBe(before + 1);
    // Its throwaway reader group is gone again: the operator may delete its own groups.
    const { groups } = await admin.listGroups();
    expect(groups.filter((group) => group.groupId.startsWith('dead-letter-reader-'))).toEqual([]);

    // It may publish to order-events (replay), so it sees the topic, but reading it is refused.
    const reader = await connected(
      operator.consumer({ groupId: `dead-letter-reader-${randomUUID()}`, retry: { retries: 0 } }),
    );
    const crash = crashOf(reader);
    let read = 0;
    await reader.subscribe({ topics: [Topics.orderEvents], fromBeginning: true });
    await reader.run({ eachMessage: async () => void (read += 1) });
    await waitFor(() => crash.error !== undefined, {
      timeoutMs: 30_000,
      description: "the operator's read of order-events to be refused",
    });
    expect(String(crash.error)).toMatch(NOT_AUTHORIZED_FOR_TOPIC);
    expect(read).toBe(0);
  });

  it('tells a service at start which of its topics are missing or not granted to it', async () => {
    const kafka = kafkaAs('notification-service');
    await expect(
      requireTopics(kafka, [Topics.orderEvents], 'notification-service'),
    ).resolves.toBeUndefined();
    await expect(
      requireTopics(
        kafka,
        [Topics.orderEvents, Topics.inventoryEvents, 'no-such-topic'],
        'notification-service',
      ),
    ).rejects.toThrow(
      'Kafka topics missing or not granted to principal "notification-service": inventory-events, no-such-topic',
    );
  });
});

/** kafkajs reports a consumer's fatal error through its CRASH event, not through run(). */
function crashOf(consumer: Consumer): { error: unknown } {
  const seen: { error: unknown } = { error: undefined };
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    seen.error = payload.error;
  });
  return seen;
}
