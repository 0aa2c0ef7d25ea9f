import type { Pool } from 'pg';
import type { OrderLine } from '@shop/contracts';
import type { CaughtMessage, SmtpCatcher } from '@shop/devstack';
import type { OrderRequest } from './traffic';

/** What one scenario's orders are: its tag, its SKUs (no other scenario orders them), what the API accepted. */
export interface ScenarioScope {
  tag: string;
  skus: ReadonlyArray<{ sku: string; stock: number }>;
  accepted: readonly OrderRequest[];
}

/** Counts of a set of tallies by reason, e.g. lost: { pending: 2, 'no-email': 1 }. */
export type Reasons = Record<string, number>;

export interface Effects {
  accepted: number;
  /** Accepted orders that are CONFIRMED, REJECTED or CANCELLED. */
  terminal: number;
  statuses: Record<string, number>;
  /** Accepted orders missing, still PENDING, or missing an effect they are owed (stock, release, email). */
  lost: number;
  lostReasons: Reasons;
  /** Effects applied more than once, or without cause. */
  duplicated: number;
  duplicatedReasons: Reasons;
  /** Units promised beyond the stock. */
  oversold: number;
  /** The same email (same Message-ID) delivered again: a crash between send and mark. */
  resends: number;
  /** Emails not sent yet because a crashed dispatcher's claim, or a retry delay, holds them. */
  deferredEmails: number;
}

const TERMINAL = new Set(['CONFIRMED', 'REJECTED', 'CANCELLED']);
/** The event the order service announces each final status with; each one owes an email. */
const ANNOUNCED_BY: Record<string, string> = {
  CONFIRMED: 'OrderConfirmed',
  REJECTED: 'OrderRejected',
  CANCELLED: 'OrderCancelled',
};
const EMAIL_EVENTS = Object.values(ANNOUNCED_BY);

export interface OrderRow {
  id: string;
  status: string;
  /** The Idempotency-Key its request claimed; null for an order made without claiming one. */
  idempotency_key: string | null;
  items: OrderLine[];
  rejection_code?: string | null;
}
/** An event the order service queued about one order (its outbox keeps sent rows an hour). */
export interface AnnouncementRow {
  order_id: string;
  event_id: string;
  event_type: string;
}
export interface ReservationRow {
  order_id: string;
  sku: string;
  quantity: number;
  status: string;
}
export interface ProductRow {
  sku: string;
  available: number;
  reserved: number;
}
export interface NotificationRow {
  order_id: string;
  event_id: string;
  type: string;
  status: string;
  deferred: boolean;
}

/**
 * The Message-ID the notification service gives the email an event causes (messageIdFor in its
 * delivery-policy.ts). Matching on it, not on the row's message_id column, also finds an email
 * whose sender died before marking its row SENT.
 */
export function messageIdFor(eventId: string): string {
  return `<${eventId}@notification.shop>`;
}

/** What the counters read: one scenario's rows in each schema, and its emails. */
export interface Rows {
  orders: OrderRow[];
  /** OrderConfirmed, OrderRejected and OrderCancelled events of the scenario's orders. */
  announcements: AnnouncementRow[];
  reservations: ReservationRow[];
  products: ProductRow[];
  notifications: NotificationRow[];
  emails: CaughtMessage[];
}

/** Reads what ended where, straight from each service's schema and the SMTP server, and counts. */
export async function countEffects(
  pool: Pool,
  smtp: SmtpCatcher,
  scope: ScenarioScope,
): Promise<Effects> {
  return tally(await readRows(pool, smtp, scope), scope);
}

/** The counts, from rows already read. */
export function tally(rows: Rows, scope: ScenarioScope): Effects {
  const lost = lostOrders(rows, scope);
  const duplicated = duplicatedEffects(rows, scope);
  const statuses: Record<string, number> = {};
  const byId = new Map(rows.orders.map((order) => [order.id, order]));
  let terminal = 0;
  for (const request of scope.accepted) {
    const status = byId.get(request.orderId ?? '')?.status ?? 'MISSING';
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (TERMINAL.has(status)) terminal += 1;
  }
  return {
    accepted: scope.accepted.length,
    terminal,
    statuses,
    lost: lost.count,
    lostReasons: lost.reasons,
    duplicated: sum(duplicated),
    duplicatedReasons: duplicated,
    oversold: oversoldUnits(rows, scope),
    resends: resentEmails(rows.emails),
    deferredEmails: lost.deferred,
  };
}

export interface Backlog {
  pendingOrders: number;
  unsentEvents: number;
  /** Emails recorded but not yet sent, or sent but not yet seen by the SMTP server. */
  unsentEmails: number;
  deferredEmails: number;
}

/** What is still in motion for the scenario's orders; all zero (bar deferred emails) means settled. */
export async function backlog(
  pool: Pool,
  smtp: SmtpCatcher,
  scope: ScenarioScope,
): Promise<Backlog> {
  const [pendingOrders, outbox, notifications] = await Promise.all([
    pendingAmong(pool, acceptedIds(scope)),
    pool.query<{ count: number }>(
      `SELECT (SELECT count(*) FROM orders.outbox_events WHERE sent_at IS NULL)
            + (SELECT count(*) FROM inventory.outbox_events WHERE sent_at IS NULL) AS count`,
    ),
    readNotifications(pool, scope),
  ]);
  const caught = new Set(smtp.messages().map((email) => email.messageId));
  let unsentEmails = 0;
  let deferredEmails = 0;
  for (const row of notifications) {
    if (caught.has(messageIdFor(row.event_id))) continue;
    if (row.status === 'PENDING' && row.deferred) deferredEmails += 1;
    else if (row.status !== 'FAILED') unsentEmails += 1;
  }
  return {
    pendingOrders,
    unsentEvents: Number(outbox.rows[0]?.count ?? 0),
    unsentEmails,
    deferredEmails,
  };
}

/** How many of these orders are still PENDING. */
export async function pendingAmong(pool: Pool, orderIds: readonly string[]): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM orders.orders
      WHERE id = ANY($1::uuid[]) AND status = 'PENDING'`,
    [orderIds],
  );
  return rows[0]?.count ?? 0;
}

async function readRows(pool: Pool, smtp: SmtpCatcher, scope: ScenarioScope): Promise<Rows> {
  const skus = scope.skus.map((product) => product.sku);
  const [orders, announcements, reservations, products, notifications] = await Promise.all([
    pool.query<OrderRow>(
      `SELECT o.id::text, o.status::text, o.items, o.rejection_code, k.key AS idempotency_key
         FROM orders.orders o LEFT JOIN orders.idempotency_keys k ON k.order_id = o.id
        WHERE o.id IN (${SCENARIO_ORDER_IDS})`,
      [skus],
    ),
    pool.query<AnnouncementRow>(
      `SELECT payload->'payload'->>'orderId' AS order_id, event_id::text, event_type
         FROM orders.outbox_events
        WHERE event_type = ANY($1::text[]) AND payload->'payload'->>'orderId' = ANY($2::text[])`,
      [EMAIL_EVENTS, acceptedIds(scope)],
    ),
    pool.query<ReservationRow>(
      `SELECT order_id::text, sku, quantity, status::text FROM inventory.reservations
        WHERE sku = ANY($1::text[])`,
      [skus],
    ),
    pool.query<ProductRow>(
      `SELECT sku, available, reserved FROM inventory.products WHERE sku = ANY($1::text[])`,
      [skus],
    ),
    readNotifications(pool, scope),
  ]);
  const references = new Set(orders.rows.map((order) => order.id.slice(0, 8)));
  return {
    orders: orders.rows,
    announcements: announcements.rows,
    reservations: reservations.rows,
    products: products.rows,
    notifications,
    // Every subject names its order by the first 8 characters of the id.
    emails: smtp
      .messages()
      .filter((email) => references.has(/^Your order (\S+)/.exec(email.subject)?.[1] ?? '')),
  };
}

/** The ids of the orders of a scenario: those with a line of one of its SKUs ($1). */
const SCENARIO_ORDER_IDS = `SELECT id FROM orders.orders
  WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(items) line WHERE line->>'sku' = ANY($1::text[]))`;

async function readNotifications(pool: Pool, scope: ScenarioScope): Promise<NotificationRow[]> {
  const { rows } = await pool.query<NotificationRow>(
    `SELECT order_id::text, event_id::text, type::text, status::text, next_attempt_at > now() AS deferred
       FROM notifications.notifications WHERE order_id IN (${SCENARIO_ORDER_IDS})`,
    [scope.skus.map((product) => product.sku)],
  );
  return rows;
}

function lostOrders(
  rows: Rows,
  scope: ScenarioScope,
): { count: number; reasons: Reasons; deferred: number } {
  const byId = new Map(rows.orders.map((order) => [order.id, order]));
  const world: World = {
    held: heldByOrder(rows.reservations),
    notifications: groupBy(rows.notifications, (row) => row.order_id),
    announcements: groupBy(rows.announcements, (row) => row.order_id),
    caught: new Set(rows.emails.map((email) => email.messageId)),
    roomFor: stockRoom(rows, scope),
  };
  const reasons: Reasons = {};
  let count = 0;
  let deferred = 0;
  for (const request of scope.accepted) {
    const order = byId.get(request.orderId ?? '');
    const reason = order ? missingEffect(request, order, world) : 'missing';
    if (reason === 'email-deferred') deferred += 1;
    else if (reason) {
      reasons[reason] = (reasons[reason] ?? 0) + 1;
      count += 1;
    }
  }
  return { count, reasons, deferred };
}

interface World {
  held: Map<string, Map<string, number>>;
  notifications: Map<string, NotificationRow[]>;
  announcements: Map<string, AnnouncementRow[]>;
  caught: Set<string>;
  /** Units of a SKU no other order can have held at any moment: more than an order asked for
   * means a rejection for want of stock cannot be explained. */
  roomFor: (sku: string, exceptOrder: string) => number;
}

/** The first effect an order is owed and does not have, if any. */
function missingEffect(request: OrderRequest, order: OrderRow, world: World): string | undefined {
  if (order.status === 'PENDING') return 'pending';
  if (request.cancel === 'cancelled' && order.status !== 'CANCELLED') return 'cancel-not-applied';
  if (request.cancel === 'refused' && !['CANCELLED', 'REJECTED'].includes(order.status)) {
    return 'cancel-wrongly-refused';
  }
  const held = world.held.get(order.id);
  if (order.status === 'CONFIRMED') {
    const covered = order.items.every((line) => held?.get(line.sku) === line.quantity);
    if (!covered) return 'confirmed-without-stock';
  }
  if (order.status === 'REJECTED') {
    if (order.rejection_code === 'UNKNOWN_SKU') return 'rejected-as-unknown-sku';
    const couldHaveFitted = order.items.every(
      (line) => world.roomFor(line.sku, order.id) >= line.quantity,
    );
    if (couldHaveFitted) return 'rejected-though-stock-remained';
  }
  if (order.status === 'CANCELLED' && held && held.size > 0) return 'release-lost';
  // Every status the order passed through was announced, and each announcement owes an email:
  // a cancelled order that had been confirmed owes two.
  const announced = world.announcements.get(order.id) ?? [];
  if (!announced.some((row) => row.event_type === ANNOUNCED_BY[order.status])) {
    return 'not-announced';
  }
  let deferred = false;
  for (const announcement of announced) {
    if (world.caught.has(messageIdFor(announcement.event_id))) continue;
    const row = (world.notifications.get(order.id) ?? []).find(
      (notification) => notification.event_id === announcement.event_id,
    );
    if (row?.status === 'PENDING' && row.deferred) deferred = true;
    else return 'no-email';
  }
  return deferred ? 'email-deferred' : undefined;
}

/**
 * Stock minus the units every other order that could ever have held them (confirmed or cancelled
 * at the end; no order is pending once a scenario has settled) asked for.
 */
function stockRoom(rows: Rows, scope: ScenarioScope): (sku: string, exceptOrder: string) => number {
  const holders = rows.orders.filter((order) => ['CONFIRMED', 'CANCELLED'].includes(order.status));
  return (sku, exceptOrder) => {
    const stock = scope.skus.find((product) => product.sku === sku)?.stock ?? 0;
    const taken = holders
      .filter((order) => order.id !== exceptOrder)
      .flatMap((order) => order.items)
      .filter((line) => line.sku === sku)
      .reduce((total, line) => total + line.quantity, 0);
    return stock - taken;
  };
}

function duplicatedEffects(rows: Rows, scope: ScenarioScope): Reasons {
  const reasons: Reasons = {};
  const add = (reason: string, amount: number): void => {
    if (amount > 0) reasons[reason] = (reasons[reason] ?? 0) + amount;
  };
  // One request, one order: every request carries an Idempotency-Key, claimed in the order's own
  // transaction, so an order without a claimed key is a retried POST the key did not catch.
  add('duplicate-order', rows.orders.filter((order) => order.idempotency_key === null).length);
  const held = heldByOrder(rows.reservations);
  for (const order of rows.orders) {
    if (order.status === 'REJECTED') add('hold-for-rejected-order', held.get(order.id)?.size ?? 0);
  }
  // products.reserved moves with exactly the HELD reservation rows; available + reserved is the stock.
  const heldUnits = unitsBySku(rows.reservations.filter((row) => row.status === 'HELD'));
  for (const { sku, stock } of scope.skus) {
    const product = rows.products.find((row) => row.sku === sku);
    if (!product) continue;
    const units = heldUnits.get(sku) ?? 0;
    add('double-reservation-units', product.reserved - units);
    add('double-release-units', units - product.reserved);
    add('stock-arithmetic-units', Math.abs(product.available + product.reserved - stock));
  }
  // One email per order event: a second row of one type, or a second Message-ID, is a second email.
  const byOrderAndType = groupBy(rows.notifications, (row) => `${row.order_id} ${row.type}`);
  for (const group of byOrderAndType.values()) add('second-notification', group.length - 1);
  const known = new Set(rows.notifications.map((row) => messageIdFor(row.event_id)));
  const strays = new Set(
    rows.emails.map((email) => email.messageId).filter((id) => !known.has(id)),
  );
  add('email-without-notification', strays.size);
  return reasons;
}

function oversoldUnits(rows: Rows, scope: ScenarioScope): number {
  const confirmedUnits = unitsBySku(
    rows.orders.filter((order) => order.status === 'CONFIRMED').flatMap((order) => order.items),
  );
  let oversold = 0;
  for (const { sku, stock } of scope.skus) {
    const product = rows.products.find((row) => row.sku === sku);
    const overConfirmed = (confirmedUnits.get(sku) ?? 0) - stock;
    const overReserved = (product?.reserved ?? 0) - stock;
    const negative = -(product?.available ?? 0);
    oversold += Math.max(0, overConfirmed, overReserved, negative);
  }
  return oversold;
}

function resentEmails(emails: CaughtMessage[]): number {
  const copies = groupBy(emails, (email) => email.messageId);
  return [...copies.values()].reduce((total, group) => total + group.length - 1, 0);
}

function heldByOrder(reservations: ReservationRow[]): Map<string, Map<string, number>> {
  const held = new Map<string, Map<string, number>>();
  for (const row of reservations) {
    if (row.status !== 'HELD') continue;
    const lines = held.get(row.order_id) ?? new Map<string, number>();
    lines.set(row.sku, (lines.get(row.sku) ?? 0) + row.quantity);
    held.set(row.order_id, lines);
  }
  return held;
}

function unitsBySku(lines: ReadonlyArray<{ sku: string; quantity: number }>): Map<string, number> {
  const units = new Map<string, number>();
  for (const line of lines) units.set(line.sku, (units.get(line.sku) ?? 0) + line.quantity);
  return units;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

function acceptedIds(scope: ScenarioScope): string[] {
  return scope.accepted.flatMap((request) => (request.orderId ? [request.orderId] : []));
}

function sum(reasons: Reasons): number {
  return Object.values(reasons).reduce((total, value) => total + value, 0);
}
