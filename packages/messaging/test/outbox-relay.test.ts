import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createEvent, OrderPlaced, Topics } from '@shop/contracts';
import {
  createTestDatabase,
  EventProbe,
  freePort,
  resetTopics,
  devstackKafkaSasl,
  testKafkaBrokers,
  waitFor,
  type TestDatabase,
} from '@shop/devstack';
import { createLogger } from '@shop/logging';
import { createKafka } from '../src/kafka';
import { KafkaEventPublisher } from '../src/event-publisher';
import { OutboxRelay } from '../src/outbox/outbox-relay';
import { toOutboxRecord } from '../src/outbox/outbox-record';
import type { CommittedOutboxRow } from '../src/outbox/outbox-relay';

// The same table and wake-up trigger every publishing service's migration creates.
const OUTBOX_DDL = `
  CREATE TABLE outbox_events (
    id BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL UNIQUE, event_type TEXT NOT NULL, topic TEXT NOT NULL,
    message_key TEXT NOT NULL, payload JSONB NOT NULL, created_at TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    sent_at TIMESTAMPTZ(3), sent_by TEXT, trace_context JSONB);
  CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE largest_id BIGINT;
  BEGIN
    SELECT max(id) INTO largest_id FROM queued_rows;
    IF largest_id IS NOT NULL THEN PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, largest_id::text); END IF;
    RETURN NULL;
  END; $$;
  CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
    REFERENCING NEW TABLE AS queued_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();`;

const logger = createLogger({ service: 'outbox-relay-test', level: 'silent', format: 'json' });
let database: TestDatabase;
let pool: Pool;
let probe: EventProbe;
const running: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  const brokers = testKafkaBrokers();
  await resetTopics(brokers, Object.values(Topics));
  database = await createTestDatabase('outbox_relay');
  pool = new Pool({ connectionString: database.urlFor('order-service', 'owner'), max: 6 });
  await pool.query(OUTBOX_DDL);
  probe = await EventProbe.start(brokers, [Topics.orderEvents]);
});

afterEach(async () => {
  for (const item of running.splice(0).reverse()) await item.stop();
});

afterAll(async () => {
  await probe?.stop();
  await pool?.end();
  await database?.drop();
});

async function startRelay(
  brokers: string[] = testKafkaBrokers().split(','),
  { pollIntervalMs = 500, replica = 'relay-test#1' } = {},
): Promise<OutboxRelay> {
  const publisher = new KafkaEventPublisher(
    createKafka({ brokers, clientId: `relay-${randomUUID()}`, sasl: devstackKafkaSasl() }, logger),
  );
  const relay = new OutboxRelay({
    pool,
    publisher,
    logger,
    replica,
    pollIntervalMs,
  });
  running.push({ stop: async () => publisher.disconnect().catch(() => undefined) }, relay);
  await publisher.connect().catch(() => undefined);
  await relay.start();
  return relay;
}

/** Writes OrderPlaced events to the outbox in one transaction, committed or rolled back. */
async function writeEvents(
  orderIds: string[],
  outcome: 'COMMIT' | 'ROLLBACK' = 'COMMIT',
): Promise<string[]> {
  return (await writeRows(orderIds, outcome)).map((row) => row.eventId);
}

/** `writeEvents`, returning the rows as a committing service hands them to its relay. */
async function writeRows(
  orderIds: string[],
  outcome: 'COMMIT' | 'ROLLBACK' = 'COMMIT',
): Promise<CommittedOutboxRow[]> {
  const client = await pool.connect();
  const rows: CommittedOutboxRow[] = [];
  try {
    await client.query('BEGIN');
    for (const orderId of orderIds) {
      const event = createEvent(
        OrderPlaced,
        { orderId, customerEmail: 'ada@example.com', items: [{ sku: 'A-1', quantity: 1 }] },
        { correlationId: orderId, causationId: null },
      );
      const record = toOutboxRecord(OrderPlaced, event);
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO outbox_events (event_id, event_type, topic, message_key, payload)
         VALUES ($1, $2, $3, $4, $5) RETURNING id::text`,
        [
          record.eventId,
          record.eventType,
          record.topic,
          record.messageKey,
          JSON.stringify(record.payload),
        ],
      );
      rows.push({ ...record, id: inserted.rows[0]!.id });
    }
    await client.query(outcome);
  } finally {
    client.release();
  }
  return rows;
}

async function unsent(eventIds: string[]): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(
    'SELECT count(*) AS count FROM outbox_events WHERE sent_at IS NULL AND event_id = ANY($1::uuid[])',
    [eventIds],
  );
  return Number(rows[0]?.count);
}

function published(eventIds: string[]) {
  const wanted = new Set(eventIds);
  return probe.matching((observed) => wanted.has(observed.event?.eventId ?? ''));
}

describe('outbox relay against real Postgres and Kafka', () => {
  it('publishes committed events, keyed by order, through an idempotent producer, and marks them sent', async () => {
    await startRelay();
    const orderId = randomUUID();
    const [eventId] = await writeEvents([orderId]);
    const [message] = await probe.waitFor(
      (observed) => observed.event?.eventId === eventId,
      'the committed event',
    );
    expect(message).toMatchObject({ topic: Topics.orderEvents, key: orderId });
    await waitFor(async () => (await unsent([eventId!])) === 0, {
      timeoutMs: 10_000,
      description: 'the row to be marked sent',
    });
    const { rows } = await pool.query<{ sent_by: string }>(
      'SELECT sent_by FROM outbox_events WHERE event_id = $1',
      [eventId],
    );
    expect(rows).toEqual([{ sent_by: 'relay-test#1' }]);
  });

  it('never publishes the events of a transaction that rolled back', async () => {
    await startRelay();
    const rolledBack = await writeEvents([randomUUID()], 'ROLLBACK');
    const marker = await writeEvents([randomUUID()]);
    await probe.waitFor(
      (observed) => observed.event?.eventId === marker[0],
      'the event committed after the rollback',
    );
    expect(published(rolledBack)).toHaveLength(0);
  });

  it('keeps the events of one order in commit order', async () => {
    await startRelay();
    const orderId = randomUUID();
    const eventIds: string[] = [];
    for (let index = 0; index < 30; index += 1) eventIds.push(...(await writeEvents([orderId])));
    await probe.waitFor(
      (observed) => observed.event?.eventId === eventIds.at(-1),
      'the last event of the order',
    );
    expect(published(eventIds).map((observed) => observed.event?.eventId)).toEqual(eventIds);
  });

  it('keeps events while Kafka is unreachable and publishes them, once each, when a relay can reach it', async () => {
    const unreachable = await startRelay([`127.0.0.1:${await freePort()}`]);
    const eventIds = await writeEvents(Array.from({ length: 25 }, () => randomUUID()));
    expect(await unsent(eventIds)).toBe(25);
    await unreachable.stop();
    expect(await unsent(eventIds)).toBe(25);

    await startRelay();
    await waitFor(async () => (await unsent(eventIds)) === 0, {
      timeoutMs: 30_000,
      description: 'the kept events to be sent',
    });
    await probe.waitFor(
      (observed) => eventIds.includes(observed.event?.eventId ?? ''),
      'the kept events',
      { count: 25 },
    );
    expect(published(eventIds)).toHaveLength(25);
  });

  it('lets two relays (two replicas) run side by side without publishing an event twice or out of order', async () => {
    await Promise.all([startRelay(), startRelay()]);
    const orderId = randomUUID();
    const eventIds: string[] = [];
    for (let batch = 0; batch < 20; batch += 1) {
      eventIds.push(...(await writeEvents([orderId, orderId, orderId, orderId, orderId])));
    }
    await probe.waitFor(
      (observed) => observed.event?.eventId === eventIds.at(-1),
      'the last of 100 events',
    );
    await waitFor(async () => (await unsent(eventIds)) === 0, {
      timeoutMs: 30_000,
      description: 'all rows marked sent',
    });
    expect(published(eventIds).map((observed) => observed.event?.eventId)).toEqual(eventIds);
  });

  it('publishes rows handed over at commit from memory, without waiting for a notification or a poll', async () => {
    const relay = await startRelay(undefined, { pollIntervalMs: 120_000 });
    const marker = await writeEvents([randomUUID()]);
    await waitFor(async () => (await unsent(marker)) === 0, {
      timeoutMs: 10_000,
      description: 'the relay to lead and publish a row its NOTIFY announced',
    });
    // No NOTIFY for these rows and no poll within the test: only the hand-over can send them.
    await pool.query('ALTER TABLE outbox_events DISABLE TRIGGER outbox_events_notify');
    let rows: CommittedOutboxRow[];
    try {
      const orderId = randomUUID();
      rows = await writeRows([orderId, orderId]);
    } finally {
      await pool.query('ALTER TABLE outbox_events ENABLE TRIGGER outbox_events_notify');
    }
    const eventIds = rows.map((row) => row.eventId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(published(eventIds)).toHaveLength(0);

    relay.publishCommitted(rows);
    relay.publishCommitted(rows);
    await waitFor(async () => (await unsent(eventIds)) === 0, {
      timeoutMs: 10_000,
      description: 'the handed-over rows to be marked sent',
    });
    await probe.waitFor((observed) => eventIds.includes(observed.event?.eventId ?? ''), 'both', {
      count: 2,
    });
    expect(published(eventIds).map((observed) => observed.event?.eventId)).toEqual(eventIds);
  });

  it('publishes, once each, rows that were handed over and also announced by their NOTIFY', async () => {
    const relay = await startRelay();
    const eventIds: string[] = [];
    // The hand-over may come before, during or after the scan its NOTIFY starts: try them all.
    for (let delayMs = 0; delayMs < 12; delayMs += 1) {
      const rows = await writeRows(Array.from({ length: 5 }, () => randomUUID()));
      eventIds.push(...rows.map((row) => row.eventId));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const handOver = setInterval(() => relay.publishCommitted(rows), 1);
      await new Promise((resolve) => setTimeout(resolve, 30));
      clearInterval(handOver);
    }
    await waitFor(async () => (await unsent(eventIds)) === 0, {
      timeoutMs: 10_000,
      description: 'the rows to be marked sent',
    });
    await probe.waitFor((observed) => eventIds.includes(observed.event?.eventId ?? ''), 'all', {
      count: eventIds.length,
    });
    // A scan or a poll after the fact must not send them again.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(published(eventIds)).toHaveLength(eventIds.length);
  });

  it('hands the lead to another replica when the leader stops; rows handed to a follower wait for the leader', async () => {
    const leader = await startRelay(undefined, { replica: 'relay-test#leader' });
    const follower = await startRelay(undefined, { replica: 'relay-test#follower' });
    const first = await writeRows([randomUUID()]);
    follower.publishCommitted(first);
    await waitFor(async () => (await unsent(first.map((row) => row.eventId))) === 0, {
      timeoutMs: 10_000,
      description: 'the leader to publish the row',
    });
    expect(await sentBy(first[0]!.eventId)).toBe('relay-test#leader');

    await leader.stop();
    const second = await writeRows([randomUUID()]);
    follower.publishCommitted(second);
    await waitFor(async () => (await unsent(second.map((row) => row.eventId))) === 0, {
      timeoutMs: 10_000,
      description: 'the follower to take the lead and publish',
    });
    expect(await sentBy(second[0]!.eventId)).toBe('relay-test#follower');
    expect(published([first[0]!.eventId, second[0]!.eventId])).toHaveLength(2);
  });
});

async function sentBy(eventId: string): Promise<string | null> {
  const { rows } = await pool.query<{ sent_by: string | null }>(
    'SELECT sent_by FROM outbox_events WHERE event_id = $1',
    [eventId],
  );
  return rows[0]?.sent_by ?? null;
}
