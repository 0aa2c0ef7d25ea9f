import { Injectable, Optional } from '@nestjs/common';
import type { OrderLine, ReservationRejection } from '@shop/contracts';
import { OutboxRelay, type OutboxRecord } from '@shop/messaging';
import { inOutboxTransaction } from '@shop/service-kit';
import type { Order, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { OrderStatus } from './order-status';

/** The transaction the order-changing methods run in; the outbox helpers take it too. */
export type OrdersTransaction = Prisma.TransactionClient;

/** A new order as the request describes it. */
export interface NewOrder {
  id: string;
  /** The `sub` of the customer's token: who may see and cancel it. */
  customerSubject: string;
  customerEmail: string;
  items: OrderLine[];
}

/** An Idempotency-Key, scoped to its caller, and the fingerprint of the request that came with it. */
export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
}

/** What storing a new order found. */
export type InsertOutcome =
  | { kind: 'inserted'; order: Order }
  /** Another order holds the key: nothing was stored. */
  | { kind: 'key-held'; holderId: string; holderFingerprint: string | null }
  /** The order id is already there (an earlier attempt committed): nothing was stored. */
  | { kind: 'already-stored' };

/** An order row as a status change returns it: what its outcome event carries. */
export interface MovedOrder {
  id: string;
  customerEmail: string;
  items: OrderLine[];
}

export interface Rejection {
  orderId: string;
  code: ReservationRejection['code'];
  reason: string;
}

export interface OrderPageQuery {
  /** Only this customer's orders; every order when undefined. */
  customerSubject?: string;
  status?: OrderStatus;
  /** Keyset position: the last order of the previous page. */
  after?: { createdAt: Date; id: string };
  take: number;
}

interface InsertResult {
  holderId: string | null;
  holderFingerprint: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
  outboxId: string | null;
}

/** How orders, their idempotency keys and their announcements are stored. */
@Injectable()
export class OrdersRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Optional() private readonly relay?: OutboxRelay,
  ) {}

  /** Stores a PENDING order and queues its announcement, claiming the key if there is one. */
  async insert(
    order: NewOrder,
    announcement: OutboxRecord,
    idempotency: IdempotencyClaim | undefined,
  ): Promise<InsertOutcome> {
    const { id } = order;
    const key = idempotency?.key ?? null;
    const fingerprint = idempotency?.fingerprint ?? null;
    // One statement, so one round trip and its own transaction: the key is claimed, the order
    // stored and OrderPlaced queued together. A request repeating a key that another order
    // holds (committed, or waited for if not yet) stores nothing; nor does a retry whose earlier
    // attempt committed just before its connection dropped (the order id is already there).
    // Keys are the customer's own: the same key from another customer is another key.
    const [result] = await this.prisma.$queryRaw<InsertResult[]>`
      WITH claimed_key AS (
        INSERT INTO idempotency_keys (caller_subject, key, request_fingerprint, order_id)
        SELECT ${order.customerSubject}::text, ${key}::text, ${fingerprint}::text, ${id}::uuid
         WHERE ${key}::text IS NOT NULL
        ON CONFLICT (caller_subject, key) DO UPDATE SET key = EXCLUDED.key
        RETURNING request_fingerprint, order_id
      ), placed AS (
        INSERT INTO orders (id, customer_subject, customer_email, status, items)
        SELECT ${id}::uuid, ${order.customerSubject}, ${order.customerEmail}, 'PENDING'::"OrderStatus",
               ${JSON.stringify(order.items)}::jsonb
         WHERE NOT EXISTS (SELECT 1 FROM claimed_key WHERE order_id <> ${id}::uuid)
        ON CONFLICT (id) DO NOTHING
        RETURNING created_at, updated_at
      ), queued AS (
        INSERT INTO outbox_events (event_id, event_type, topic, message_key, payload, trace_context)
        SELECT ${announcement.eventId}::uuid, ${announcement.eventType}, ${announcement.topic},
               ${announcement.messageKey}, ${JSON.stringify(announcement.payload)}::jsonb,
               NULLIF(${JSON.stringify(announcement.traceContext ?? null)}::jsonb, 'null')
          FROM placed
        RETURNING id
      )
      SELECT (SELECT order_id::text FROM claimed_key) AS "holderId",
             (SELECT request_fingerprint FROM claimed_key) AS "holderFingerprint",
             (SELECT created_at FROM placed) AS "createdAt",
             (SELECT updated_at FROM placed) AS "updatedAt",
             (SELECT id::text FROM queued) AS "outboxId"`;
    if (result?.createdAt && result.updatedAt) {
      const { createdAt, updatedAt } = result;
      if (result.outboxId) this.relay?.publishCommitted([{ ...announcement, id: result.outboxId }]);
      return {
        kind: 'inserted',
        order: {
          id,
          customerSubject: order.customerSubject,
          customerEmail: order.customerEmail,
          status: 'PENDING',
          items: order.items,
          rejectionCode: null,
          rejectionReason: null,
          createdAt,
          updatedAt,
        },
      };
    }
    if (result?.holderId && result.holderId !== id) {
      return {
        kind: 'key-held',
        holderId: result.holderId,
        holderFingerprint: result.holderFingerprint,
      };
    }
    return { kind: 'already-stored' };
  }

  find(id: string): Promise<Order | null> {
    return this.prisma.order.findUnique({ where: { id } });
  }

  /** For an order known to be stored. */
  findExisting(id: string): Promise<Order> {
    return this.prisma.order.findUniqueOrThrow({ where: { id } });
  }

  /** Newest first; `after` continues below the given order. */
  findPage(query: OrderPageQuery): Promise<Order[]> {
    const { customerSubject, status, after, take } = query;
    return this.prisma.order.findMany({
      where: {
        ...(customerSubject === undefined ? {} : { customerSubject }),
        ...(status ? { status } : {}),
        ...(after
          ? {
              OR: [
                { createdAt: { lt: after.createdAt } },
                { createdAt: after.createdAt, id: { lt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take,
    });
  }

  /** Once it commits, what it queued in the outbox is published at once. */
  inTransaction<T>(work: (tx: OrdersTransaction) => Promise<T>): Promise<T> {
    return inOutboxTransaction((run) => this.prisma.$transaction(run), this.relay, work);
  }

  /** The order's status and owner, undefined if there is no such order. */
  async lockStatus(
    tx: OrdersTransaction,
    id: string,
  ): Promise<{ status: OrderStatus; customerSubject: string | null } | undefined> {
    // Locks the order: an inventory answer arriving meanwhile waits, then finds it CANCELLED.
    const [current] = await tx.$queryRaw<
      Array<{ status: OrderStatus; customerSubject: string | null }>
    >`
      SELECT status, customer_subject AS "customerSubject" FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
    return current;
  }

  markCancelled(tx: OrdersTransaction, id: string): Promise<Order> {
    return tx.order.update({ where: { id }, data: { status: 'CANCELLED' } });
  }

  /** Those of the orders still PENDING become CONFIRMED; returns them. */
  confirmPending(tx: OrdersTransaction, orderIds: readonly string[]): Promise<MovedOrder[]> {
    return tx.$queryRaw<MovedOrder[]>`
      UPDATE orders SET status = 'CONFIRMED', updated_at = now()
       WHERE id = ANY(${orderIds}::uuid[]) AND status = 'PENDING'
      RETURNING id::text, customer_email AS "customerEmail", items`;
  }

  /** Those of the orders still PENDING become REJECTED with their reason; returns them. */
  rejectPending(tx: OrdersTransaction, rejections: readonly Rejection[]): Promise<MovedOrder[]> {
    return tx.$queryRaw<MovedOrder[]>`
      UPDATE orders AS o
         SET status = 'REJECTED', rejection_code = r.code, rejection_reason = r.reason,
             updated_at = now()
        FROM unnest(${rejections.map((rejection) => rejection.orderId)}::uuid[],
                    ${rejections.map((rejection) => rejection.code)}::text[],
                    ${rejections.map((rejection) => rejection.reason)}::text[])
             AS r(id, code, reason)
       WHERE o.id = r.id AND o.status = 'PENDING'
      RETURNING o.id::text, o.customer_email AS "customerEmail", o.items`;
  }
}
