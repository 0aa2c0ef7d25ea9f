import type { EventContract, EventOf } from '@shop/contracts';
import {
  deliveryOf,
  toOutboxRecord,
  type CommittedOutboxRow,
  type Delivery,
  type OutboxRecord,
  type OutboxRelay,
} from '@shop/messaging';

/** The slice of a Prisma transaction client these helpers need; every service's client has it. */
export interface RawSqlExecutor {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

type ClaimableEvent = Pick<EventOf<EventContract>, 'eventId' | 'type' | 'correlationId'>;

/**
 * Records a consumed event's id in the same transaction as its effect. Returns false when the
 * id is already there: the event was handled before (a redelivery) and its effect must not repeat.
 */
export async function claimEvent(tx: RawSqlExecutor, event: ClaimableEvent): Promise<boolean> {
  return (await claimEvents(tx, [event])).length === 1;
}

/**
 * `claimEvent` for a whole batch in one statement: returns the events claimed now, in their order.
 * Events handled before (redeliveries) are left out, and so is the second of two equal ids.
 */
export async function claimEvents<E extends ClaimableEvent>(
  tx: RawSqlExecutor,
  events: readonly E[],
): Promise<E[]> {
  if (events.length === 0) return [];
  const delivered = events.map((event) => deliveryOf(event));
  const claimed = await tx.$queryRaw<Array<{ event_id: string }>>`
    INSERT INTO processed_events
           (event_id, event_type, correlation_id, topic, kafka_partition, kafka_offset, handled_by,
            fetched_at)
    SELECT * FROM unnest(${events.map((event) => event.eventId)}::uuid[],
                         ${events.map((event) => event.type)}::text[],
                         ${events.map((event) => event.correlationId)}::uuid[],
                         ${delivered.map((where) => where?.topic ?? null)}::text[],
                         ${delivered.map((where) => where?.partition ?? null)}::int[],
                         ${delivered.map((where) => where?.offset ?? null)}::bigint[],
                         ${delivered.map((where) => where?.replica ?? null)}::text[],
                         ${delivered.map((where) => fetchedAt(where))}::timestamptz[])
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id::text`;
  const ids = new Set(claimed.map((row) => row.event_id));
  return events.filter((event) => ids.delete(event.eventId));
}

/** Adds an event to the outbox inside the caller's transaction: it is published only if that commits. */
export async function appendToOutbox<C extends EventContract>(
  tx: RawSqlExecutor,
  contract: C,
  event: EventOf<C>,
): Promise<void> {
  await appendAllToOutbox(tx, [toOutboxRecord(contract, event)]);
}

/** `appendToOutbox` for many events in one statement, in the given order (the relay keeps it). */
export async function appendAllToOutbox(
  tx: RawSqlExecutor,
  records: readonly OutboxRecord[],
): Promise<void> {
  if (records.length === 0) return;
  const inserted = await tx.$queryRaw<Array<{ id: string }>>`
    INSERT INTO outbox_events (event_id, event_type, topic, message_key, payload, trace_context)
    SELECT event_id, event_type, topic, message_key, payload, NULLIF(trace_context, 'null')
      FROM unnest(${records.map((record) => record.eventId)}::uuid[],
                         ${records.map((record) => record.eventType)}::text[],
                         ${records.map((record) => record.topic)}::text[],
                         ${records.map((record) => record.messageKey)}::text[],
                         ${records.map((record) => JSON.stringify(record.payload))}::jsonb[],
                         ${records.map((record) => JSON.stringify(record.traceContext ?? null))}::jsonb[])
           WITH ORDINALITY AS r(event_id, event_type, topic, message_key, payload, trace_context,
                                position)
     ORDER BY position
    RETURNING id::text`;
  // Ids are drawn in insertion order; RETURNING does not promise an order of its own.
  const ids = inserted.map((row) => BigInt(row.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const queued = queuedRows.get(tx) ?? [];
  records.forEach((record, index) => queued.push({ ...record, id: String(ids[index]) }));
  queuedRows.set(tx, queued);
}

const queuedRows = new WeakMap<RawSqlExecutor, CommittedOutboxRow[]>();

/**
 * Runs `work` in the transaction `begin` opens and, once it has committed, hands the outbox rows
 * it queued to the relay, which publishes them at once instead of reading them back. Without a
 * relay (or if the process dies first) the relay's scan of the table publishes them.
 */
export async function inOutboxTransaction<Tx extends RawSqlExecutor, T>(
  begin: (work: (tx: Tx) => Promise<T>) => Promise<T>,
  relay: OutboxRelay | undefined,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  let queued: readonly CommittedOutboxRow[] = [];
  const result = await begin(async (tx) => {
    const value = await work(tx);
    queued = queuedRows.get(tx) ?? [];
    queuedRows.delete(tx);
    return value;
  });
  relay?.publishCommitted(queued);
  return result;
}

/** A delivery's fetch time as Postgres takes it in an array parameter. */
export function fetchedAt(delivery: Delivery | undefined): string | null {
  return delivery ? new Date(delivery.fetchedAt).toISOString() : null;
}
