import type { Client } from 'pg';

/**
 * What the system itself recorded about one order, epoch ms (Postgres keeps milliseconds). Read from
 * every service's schema with the admin role, after the step, so nothing is polled while it runs.
 */
export interface OrderTimeline {
  id: string;
  status: string;
  /** orders.created_at: the order service inserted the order. */
  created: number | null;
  /** orders.outbox_events.sent_at of OrderPlaced: Kafka acknowledged it to the relay. */
  placedSent: number | null;
  /** inventory.processed_events.processed_at: inventory's transaction for OrderPlaced began. */
  reserveStarted: number | null;
  /** inventory.outbox_events.sent_at of StockReserved. */
  reservedSent: number | null;
  /** orders.processed_events.processed_at: the order service's transaction for StockReserved began. */
  confirmStarted: number | null;
  /** orders.updated_at of the CONFIRMED row. */
  confirmed: number | null;
  /** orders.outbox_events.sent_at of OrderConfirmed. */
  confirmedSent: number | null;
  /** notifications.processed_events.processed_at: the notification's transaction began. */
  notifyStarted: number | null;
  /** notifications.sent_at: the SMTP server had accepted the email and the row was marked SENT. */
  mailMarkedSent: number | null;
}

type TimelineRow = { [K in keyof OrderTimeline]: string | null };

const ms = (column: string): string => `(extract(epoch from ${column}) * 1000)::float8`;

// Every event of an order is keyed (message_key) by the order id; each consumer records the event
// id it handled in its own processed_events, in the transaction that had the effect.
const TIMELINE_SQL = `
SELECT o.id::text AS "id", o.status::text AS "status",
       ${ms('o.created_at')} AS "created",
       ${ms('placed.sent_at')} AS "placedSent",
       ${ms('reserve.processed_at')} AS "reserveStarted",
       ${ms('reserved.sent_at')} AS "reservedSent",
       ${ms('confirm.processed_at')} AS "confirmStarted",
       CASE WHEN o.status = 'CONFIRMED' THEN ${ms('o.updated_at')} END AS "confirmed",
       ${ms('confirmed.sent_at')} AS "confirmedSent",
       ${ms('notify.processed_at')} AS "notifyStarted",
       ${ms('mail.sent_at')} AS "mailMarkedSent"
  FROM unnest($1::uuid[]) AS wanted(id)
  JOIN orders.orders o ON o.id = wanted.id
  LEFT JOIN orders.outbox_events placed
         ON placed.message_key = o.id::text AND placed.event_type = 'OrderPlaced'
  LEFT JOIN inventory.processed_events reserve ON reserve.event_id = placed.event_id
  LEFT JOIN inventory.outbox_events reserved
         ON reserved.message_key = o.id::text AND reserved.event_type = 'StockReserved'
  LEFT JOIN orders.processed_events confirm ON confirm.event_id = reserved.event_id
  LEFT JOIN orders.outbox_events confirmed
         ON confirmed.message_key = o.id::text AND confirmed.event_type = 'OrderConfirmed'
  LEFT JOIN notifications.processed_events notify ON notify.event_id = confirmed.event_id
  LEFT JOIN notifications.notifications mail ON mail.event_id = confirmed.event_id`;

export async function readTimelines(
  client: Client,
  orderIds: string[],
): Promise<Map<string, OrderTimeline>> {
  const timelines = new Map<string, OrderTimeline>();
  const { rows } = await client.query<TimelineRow>(TIMELINE_SQL, [orderIds]);
  for (const row of rows) {
    timelines.set(row.id ?? '', {
      id: row.id ?? '',
      status: row.status ?? '',
      created: num(row.created),
      placedSent: num(row.placedSent),
      reserveStarted: num(row.reserveStarted),
      reservedSent: num(row.reservedSent),
      confirmStarted: num(row.confirmStarted),
      confirmed: num(row.confirmed),
      confirmedSent: num(row.confirmedSent),
      notifyStarted: num(row.notifyStarted),
      mailMarkedSent: num(row.mailMarkedSent),
    });
  }
  return timelines;
}

/** Orders still waiting for inventory's answer; all of them belong to the running step. */
export async function countPending(client: Client): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    `SELECT count(*) AS count FROM orders.orders WHERE status = 'PENDING'`,
  );
  return Number(rows[0]?.count ?? 0);
}

function num(value: string | null): number | null {
  return value === null ? null : Number(value);
}

/**
 * The path of one order, stage by stage: each stage runs from one recorded moment to the next.
 * `sent_at` is stamped after Kafka acknowledged the batch, and a consumer may already be handling
 * the event by then: the "Kafka → consumer" stages can be slightly negative for that reason.
 */
export const STAGES = [
  { name: 'request → order row', from: 'sent', to: 'created' },
  { name: 'order row → OrderPlaced on Kafka', from: 'created', to: 'placedSent' },
  { name: 'OrderPlaced on Kafka → inventory handles it', from: 'placedSent', to: 'reserveStarted' },
  {
    name: 'inventory handles → StockReserved on Kafka',
    from: 'reserveStarted',
    to: 'reservedSent',
  },
  { name: 'StockReserved on Kafka → order handles it', from: 'reservedSent', to: 'confirmStarted' },
  { name: 'order handles → CONFIRMED', from: 'confirmStarted', to: 'confirmed' },
  { name: 'CONFIRMED → OrderConfirmed on Kafka', from: 'confirmed', to: 'confirmedSent' },
  {
    name: 'OrderConfirmed on Kafka → notification handles it',
    from: 'confirmedSent',
    to: 'notifyStarted',
  },
  {
    name: 'notification handles → email at SMTP server',
    from: 'notifyStarted',
    to: 'emailReceived',
  },
  { name: 'SMTP server answers', from: 'emailReceived', to: 'emailAccepted' },
] as const;

export type StageName = (typeof STAGES)[number]['name'];
export type StagePoint = (typeof STAGES)[number]['from'] | (typeof STAGES)[number]['to'];
