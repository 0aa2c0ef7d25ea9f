import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  createEvent,
  describeRejection,
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  OrderRejected,
  type OrderLine,
  type StockReservationRejectedEvent,
  type StockReservedEvent,
} from '@shop/contracts';
import { bindCorrelationId, type Logger } from '@shop/logging';
import { toOutboxRecord } from '@shop/messaging';
import {
  appendAllToOutbox,
  appendToOutbox,
  claimEvents,
  LOGGER,
  retryTransient,
} from '@shop/service-kit';
import { z } from 'zod';
import type { Order } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { ListOrdersQuery } from './dto/list-orders.query';
import type { OrderPage, OrderView } from './dto/order.response';
import type { PlaceOrderDto } from './dto/place-order.dto';
import { canTransition, type OrderStatus } from './order-status';
import {
  IdempotencyKeyReusedError,
  InvalidCursorError,
  OrderNotCancellableError,
  OrderNotFoundError,
} from './orders.errors';
import { requestFingerprint } from './request-fingerprint';

export interface PlacedOrder {
  order: OrderView;
  /** True when an earlier request with the same idempotency key created this order. */
  replayed: boolean;
}

/** Order rules and state changes; every change commits together with the event announcing it. */
@Injectable()
export class OrdersService {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Records the order as PENDING and queues OrderPlaced; inventory answers asynchronously.
   * With an idempotency key, a request that repeats an earlier one gets that order back instead.
   */
  async place(input: PlaceOrderDto, idempotencyKey?: string): Promise<PlacedOrder> {
    const id = randomUUID();
    bindCorrelationId(id);
    const event = createEvent(
      OrderPlaced,
      { orderId: id, customerEmail: input.customerEmail, items: input.items },
      { correlationId: id, causationId: null },
    );
    const record = toOutboxRecord(OrderPlaced, event);
    const fingerprint = idempotencyKey === undefined ? null : requestFingerprint(input);
    const placed = await this.retrying(async (): Promise<{ order: Order; replayed: boolean }> => {
      // One statement, so one round trip and its own transaction: the key is claimed, the order
      // stored and OrderPlaced queued together. A request repeating a key that another order
      // holds (committed, or waited for if not yet) stores nothing; nor does a retry whose earlier
      // attempt committed just before its connection dropped (the order id is already there).
      const [result] = await this.prisma.$queryRaw<PlaceResult[]>`
        WITH claimed_key AS (
          INSERT INTO idempotency_keys (key, request_fingerprint, order_id)
          SELECT ${idempotencyKey ?? null}::text, ${fingerprint}::text, ${id}::uuid
           WHERE ${idempotencyKey ?? null}::text IS NOT NULL
          ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
          RETURNING request_fingerprint, order_id
        ), placed AS (
          INSERT INTO orders (id, customer_email, status, items)
          SELECT ${id}::uuid, ${input.customerEmail}, 'PENDING'::"OrderStatus",
                 ${JSON.stringify(input.items)}::jsonb
           WHERE NOT EXISTS (SELECT 1 FROM claimed_key WHERE order_id <> ${id}::uuid)
          ON CONFLICT (id) DO NOTHING
          RETURNING created_at, updated_at
        ), queued AS (
          INSERT INTO outbox_events (event_id, event_type, topic, message_key, payload)
          SELECT ${record.eventId}::uuid, ${record.eventType}, ${record.topic}, ${record.messageKey},
                 ${JSON.stringify(record.payload)}::jsonb
            FROM placed
        )
        SELECT (SELECT order_id::text FROM claimed_key) AS "holderId",
               (SELECT request_fingerprint FROM claimed_key) AS "holderFingerprint",
               (SELECT created_at FROM placed) AS "createdAt",
               (SELECT updated_at FROM placed) AS "updatedAt"`;
      if (result?.createdAt && result.updatedAt) {
        const { createdAt, updatedAt } = result;
        const order: Order = {
          id,
          customerEmail: input.customerEmail,
          status: 'PENDING',
          items: input.items,
          rejectionCode: null,
          rejectionReason: null,
          createdAt,
          updatedAt,
        };
        return { order, replayed: false };
      }
      if (result?.holderId && result.holderId !== id) {
        if (result.holderFingerprint !== fingerprint) {
          throw new IdempotencyKeyReusedError(result.holderId);
        }
        bindCorrelationId(result.holderId);
        const order = await this.prisma.order.findUniqueOrThrow({ where: { id: result.holderId } });
        return { order, replayed: true };
      }
      return {
        order: await this.prisma.order.findUniqueOrThrow({ where: { id } }),
        replayed: false,
      };
    });
    if (placed.replayed) {
      this.logger.info({ orderId: placed.order.id }, 'order replayed for its idempotency key');
    } else {
      this.logger.info({ orderId: id, lines: input.items.length }, 'order placed');
    }
    return { order: toView(placed.order), replayed: placed.replayed };
  }

  async get(id: string): Promise<OrderView> {
    const order = await this.retrying(() => this.prisma.order.findUnique({ where: { id } }));
    if (!order) throw new OrderNotFoundError(id);
    return toView(order);
  }

  /** Newest first, keyset-paginated so pages stay stable while orders arrive. */
  async list(query: ListOrdersQuery): Promise<OrderPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new InvalidCursorError();
    const orders = await this.retrying(() =>
      this.prisma.order.findMany({
        where: {
          ...(query.status ? { status: query.status } : {}),
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
        take: query.limit + 1,
      }),
    );
    const page = orders.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toView),
      nextCursor: orders.length > query.limit && last ? encodeCursor(last) : null,
    };
  }

  /** PENDING or CONFIRMED → CANCELLED, and OrderCancelled tells inventory to release what it holds. */
  async cancel(id: string): Promise<OrderView> {
    bindCorrelationId(id);
    const cancelled = await this.retrying(() =>
      this.prisma.$transaction(async (tx) => {
        // Locks the order: an inventory answer arriving meanwhile waits, then finds it CANCELLED.
        const [current] = await tx.$queryRaw<Array<{ status: OrderStatus }>>`
          SELECT status FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
        if (!current) throw new OrderNotFoundError(id);
        if (!canTransition(current.status, 'CANCELLED')) {
          throw new OrderNotCancellableError(id, current.status);
        }
        const order = await tx.order.update({ where: { id }, data: { status: 'CANCELLED' } });
        const event = createEvent(
          OrderCancelled,
          {
            orderId: id,
            customerEmail: order.customerEmail,
            items: order.items as OrderLine[],
            previousStatus: current.status as 'PENDING' | 'CONFIRMED',
          },
          { correlationId: id, causationId: null },
        );
        await appendToOutbox(tx, OrderCancelled, event);
        return order;
      }),
    );
    this.logger.info({ orderId: id }, 'order cancelled');
    return toView(cancelled);
  }

  /**
   * Inventory held every line: PENDING → CONFIRMED, for a batch of answers in one transaction.
   * An order that is no longer PENDING (e.g. cancelled meanwhile) is left alone.
   */
  async confirmAll(events: readonly StockReservedEvent[]): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const fresh = await claimEvents(tx, events);
      if (fresh.length === 0) return;
      const confirmed = await tx.$queryRaw<MovedOrder[]>`
        UPDATE orders SET status = 'CONFIRMED', updated_at = now()
         WHERE id = ANY(${fresh.map((event) => event.payload.orderId)}::uuid[]) AND status = 'PENDING'
        RETURNING id::text, customer_email AS "customerEmail", items`;
      const byId = new Map(confirmed.map((order) => [order.id, order]));
      const announced = fresh.flatMap((event) => {
        const order = byId.get(event.payload.orderId);
        if (!order) return this.ignoredOutcome(event.payload.orderId, 'CONFIRMED');
        byId.delete(order.id);
        this.logger.info({ orderId: order.id }, 'order confirmed');
        const payload = {
          orderId: order.id,
          customerEmail: order.customerEmail,
          items: order.items,
        };
        return [
          toOutboxRecord(OrderConfirmed, createEvent(OrderConfirmed, payload, causedBy(event))),
        ];
      });
      await appendAllToOutbox(tx, announced);
    });
  }

  /** Inventory could not hold every line: PENDING → REJECTED with the reason, for a batch. */
  async rejectAll(events: readonly StockReservationRejectedEvent[]): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const fresh = await claimEvents(tx, events);
      if (fresh.length === 0) return;
      const rejected = await tx.$queryRaw<MovedOrder[]>`
        UPDATE orders AS o
           SET status = 'REJECTED', rejection_code = r.code, rejection_reason = r.reason,
               updated_at = now()
          FROM unnest(${fresh.map((event) => event.payload.orderId)}::uuid[],
                      ${fresh.map((event) => event.payload.reason.code)}::text[],
                      ${fresh.map((event) => describeRejection(event.payload.reason))}::text[])
               AS r(id, code, reason)
         WHERE o.id = r.id AND o.status = 'PENDING'
        RETURNING o.id::text, o.customer_email AS "customerEmail", o.items`;
      const byId = new Map(rejected.map((order) => [order.id, order]));
      const announced = fresh.flatMap((event) => {
        const order = byId.get(event.payload.orderId);
        if (!order) return this.ignoredOutcome(event.payload.orderId, 'REJECTED');
        byId.delete(order.id);
        const { reason } = event.payload;
        this.logger.info({ orderId: order.id, reason: reason.code }, 'order rejected');
        const payload = { orderId: order.id, customerEmail: order.customerEmail, reason };
        return [
          toOutboxRecord(OrderRejected, createEvent(OrderRejected, payload, causedBy(event))),
        ];
      });
      await appendAllToOutbox(tx, announced);
    });
  }

  /** Rides out a database restart: transient failures are retried for up to ~10 s. */
  private retrying<T>(work: (attempt: number) => Promise<T>): Promise<T> {
    return retryTransient(work, {
      onRetry: (error, attempt, delayMs) =>
        this.logger[attempt === 1 ? 'warn' : 'debug'](
          { err: error, attempt, delayMs },
          'database unavailable; retrying',
        ),
    });
  }

  private ignoredOutcome(orderId: string, wanted: OrderStatus): [] {
    this.logger.info({ orderId, wanted }, 'order is no longer pending; inventory outcome ignored');
    return [];
  }
}

/** An order row as a status change returns it: what its outcome event carries. */
interface MovedOrder {
  id: string;
  customerEmail: string;
  items: OrderLine[];
}

interface PlaceResult {
  holderId: string | null;
  holderFingerprint: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

function causedBy(event: StockReservedEvent | StockReservationRejectedEvent): {
  correlationId: string;
  causationId: string;
} {
  return { correlationId: event.correlationId, causationId: event.eventId };
}

function toView(order: Order): OrderView {
  return {
    id: order.id,
    status: order.status,
    customerEmail: order.customerEmail,
    items: order.items as OrderLine[],
    ...(order.rejectionReason ? { rejectionReason: order.rejectionReason } : {}),
    ...(order.rejectionCode
      ? { rejectionCode: order.rejectionCode as NonNullable<OrderView['rejectionCode']> }
      : {}),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

function encodeCursor(order: Order): string {
  return Buffer.from(JSON.stringify([order.createdAt.toISOString(), order.id])).toString(
    'base64url',
  );
}

const cursorSchema = z.tuple([z.iso.datetime(), z.uuid()]);

function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
    return parsed.success ? { createdAt: new Date(parsed.data[0]), id: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}
