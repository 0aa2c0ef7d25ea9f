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
import { appendToOutbox, claimEvent, LOGGER, retryTransient } from '@shop/service-kit';
import { z } from 'zod';
import type { Order, Prisma } from '../generated/prisma/client';
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
    const claim =
      idempotencyKey === undefined
        ? undefined
        : { key: idempotencyKey, fingerprint: requestFingerprint(input) };
    const placed = await this.retrying((attempt) =>
      this.prisma.$transaction(async (tx) => {
        if (claim) {
          const holder = await claimIdempotencyKey(tx, claim, id);
          if (holder.orderId !== id) return replay(tx, holder, claim.fingerprint);
        }
        // An earlier attempt may have committed just before its connection dropped.
        const earlier = attempt > 1 ? await tx.order.findUnique({ where: { id } }) : null;
        if (earlier) return { order: earlier, replayed: false };
        const order = await tx.order.create({
          data: { id, customerEmail: input.customerEmail, status: 'PENDING', items: input.items },
        });
        await appendToOutbox(tx, OrderPlaced, event);
        return { order, replayed: false };
      }),
    );
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

  /** Inventory held every line: PENDING → CONFIRMED. Anything else (e.g. already cancelled) is left alone. */
  async confirm(event: StockReservedEvent): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      if (!(await claimEvent(tx, event))) return;
      const order = await this.moveFromPending(tx, event.payload.orderId, 'CONFIRMED', {});
      if (!order) return;
      this.logger.info({ orderId: order.id }, 'order confirmed');
      const confirmed = createEvent(
        OrderConfirmed,
        {
          orderId: order.id,
          customerEmail: order.customerEmail,
          items: order.items as OrderLine[],
        },
        { correlationId: event.correlationId, causationId: event.eventId },
      );
      await appendToOutbox(tx, OrderConfirmed, confirmed);
    });
  }

  /** Inventory could not hold every line: PENDING → REJECTED, with the reason. */
  async reject(event: StockReservationRejectedEvent): Promise<void> {
    const { reason } = event.payload;
    await this.prisma.$transaction(async (tx) => {
      if (!(await claimEvent(tx, event))) return;
      const order = await this.moveFromPending(tx, event.payload.orderId, 'REJECTED', {
        rejectionCode: reason.code,
        rejectionReason: describeRejection(reason),
      });
      if (!order) return;
      this.logger.info({ orderId: order.id, reason: reason.code }, 'order rejected');
      const rejected = createEvent(
        OrderRejected,
        { orderId: order.id, customerEmail: order.customerEmail, reason },
        { correlationId: event.correlationId, causationId: event.eventId },
      );
      await appendToOutbox(tx, OrderRejected, rejected);
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

  private async moveFromPending(
    tx: Prisma.TransactionClient,
    id: string,
    to: OrderStatus,
    details: { rejectionCode?: string; rejectionReason?: string },
  ): Promise<Order | undefined> {
    const changed = await tx.order.updateMany({
      where: { id, status: 'PENDING' },
      data: { status: to, ...details },
    });
    if (changed.count === 0) {
      const current = await tx.order.findUnique({ where: { id }, select: { status: true } });
      this.logger.info(
        { orderId: id, status: current?.status ?? 'UNKNOWN', wanted: to },
        'order is no longer pending; inventory outcome ignored',
      );
      return undefined;
    }
    return tx.order.findUniqueOrThrow({ where: { id } });
  }
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

interface KeyHolder {
  requestFingerprint: string;
  orderId: string;
}

/**
 * Claims the idempotency key for this order, or returns the row of the order that holds it.
 * A concurrent request with the same key waits here until the holder commits (it then gets the
 * holder's row) or rolls back (it then claims the key). `DO UPDATE` rather than `DO NOTHING` and
 * a `SELECT`: the row comes back in the same statement, with no gap in which it could be swept.
 */
async function claimIdempotencyKey(
  tx: Prisma.TransactionClient,
  claim: { key: string; fingerprint: string },
  orderId: string,
): Promise<KeyHolder> {
  const [holder] = await tx.$queryRaw<KeyHolder[]>`
    INSERT INTO idempotency_keys (key, request_fingerprint, order_id)
    VALUES (${claim.key}, ${claim.fingerprint}, ${orderId}::uuid)
    ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
    RETURNING request_fingerprint AS "requestFingerprint", order_id::text AS "orderId"`;
  if (!holder) throw new Error('claiming an idempotency key returned no row');
  return holder;
}

/** The order an earlier request with the same key placed, provided it sent the same body. */
async function replay(
  tx: Prisma.TransactionClient,
  holder: KeyHolder,
  fingerprint: string,
): Promise<{ order: Order; replayed: boolean }> {
  if (holder.requestFingerprint !== fingerprint) {
    throw new IdempotencyKeyReusedError(holder.orderId);
  }
  bindCorrelationId(holder.orderId);
  const order = await tx.order.findUniqueOrThrow({ where: { id: holder.orderId } });
  return { order, replayed: true };
}
