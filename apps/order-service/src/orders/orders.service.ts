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
import { appendToOutbox, claimEvent, LOGGER } from '@shop/service-kit';
import type { Order, Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { ListOrdersQuery } from './dto/list-orders.query';
import type { OrderPage, OrderView } from './dto/order.response';
import type { PlaceOrderDto } from './dto/place-order.dto';
import { canTransition, type OrderStatus } from './order-status';
import { InvalidCursorError, OrderNotCancellableError, OrderNotFoundError } from './orders.errors';

/** Order rules and state changes; every change commits together with the event announcing it. */
@Injectable()
export class OrdersService {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Records the order as PENDING and queues OrderPlaced; inventory answers asynchronously. */
  async place(input: PlaceOrderDto): Promise<OrderView> {
    const id = randomUUID();
    bindCorrelationId(id);
    const event = createEvent(
      OrderPlaced,
      { orderId: id, customerEmail: input.customerEmail, items: input.items },
      { correlationId: id, causationId: null },
    );
    const order = await this.prisma.$transaction(async (tx) => {
      const created = await tx.order.create({
        data: { id, customerEmail: input.customerEmail, status: 'PENDING', items: input.items },
      });
      await appendToOutbox(tx, OrderPlaced, event);
      return created;
    });
    this.logger.info({ orderId: id, lines: input.items.length }, 'order placed');
    return toView(order);
  }

  async get(id: string): Promise<OrderView> {
    const order = await this.prisma.order.findUnique({ where: { id } });
    if (!order) throw new OrderNotFoundError(id);
    return toView(order);
  }

  /** Newest first, keyset-paginated so pages stay stable while orders arrive. */
  async list(query: ListOrdersQuery): Promise<OrderPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new InvalidCursorError();
    const orders = await this.prisma.order.findMany({
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
    });
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
    const cancelled = await this.prisma.$transaction(async (tx) => {
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
    });
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

function decodeCursor(cursor: string): { createdAt: Date; id: string } | undefined {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [
      string,
      string,
    ];
    const date = new Date(createdAt);
    return Number.isNaN(date.getTime()) || typeof id !== 'string'
      ? undefined
      : { createdAt: date, id };
  } catch {
    return undefined;
  }
}
