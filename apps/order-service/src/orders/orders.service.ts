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
import type { ListOrdersQuery } from './dto/list-orders.query';
import type { OrderPage, OrderView } from './dto/order.response';
import type { PlaceOrderDto } from './dto/place-order.dto';
import { mayActOn, ownerFilter, type Customer, type OrderActor } from './order-actor';
import { canTransition, type OrderStatus } from './order-status';
import {
  IdempotencyKeyReusedError,
  InvalidCursorError,
  OrderNotCancellableError,
  OrderNotFoundError,
} from './orders.errors';
import { OrdersRepository } from './orders.repository';
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
    private readonly orders: OrdersRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Records the customer's order as PENDING and queues OrderPlaced; inventory answers
   * asynchronously. With an idempotency key, a request that repeats one of the customer's earlier
   * ones gets that order back instead.
   */
  async place(
    customer: Customer,
    input: PlaceOrderDto,
    idempotencyKey?: string,
  ): Promise<PlacedOrder> {
    const id = randomUUID();
    bindCorrelationId(id);
    const customerEmail = customer.email;
    const event = createEvent(
      OrderPlaced,
      { orderId: id, customerEmail, items: input.items },
      { correlationId: id, causationId: null },
    );
    const record = toOutboxRecord(OrderPlaced, event);
    const claim =
      idempotencyKey === undefined
        ? undefined
        : { key: idempotencyKey, fingerprint: requestFingerprint(input) };
    const newOrder = { id, customerSubject: customer.subject, customerEmail, items: input.items };
    const placed = await this.retrying(async (): Promise<{ order: Order; replayed: boolean }> => {
      const outcome = await this.orders.insert(newOrder, record, claim);
      switch (outcome.kind) {
        case 'inserted':
          return { order: outcome.order, replayed: false };
        case 'key-held':
          if (outcome.holderFingerprint !== (claim?.fingerprint ?? null)) {
            throw new IdempotencyKeyReusedError(outcome.holderId);
          }
          bindCorrelationId(outcome.holderId);
          return { order: await this.orders.findExisting(outcome.holderId), replayed: true };
        case 'already-stored':
          return { order: await this.orders.findExisting(id), replayed: false };
      }
    });
    if (placed.replayed) {
      this.logger.info({ orderId: placed.order.id }, 'order replayed for its idempotency key');
    } else {
      this.logger.info({ orderId: id, lines: input.items.length }, 'order placed');
    }
    return { order: toView(placed.order), replayed: placed.replayed };
  }

  /** Someone else's order is answered as not found: whether it exists is none of the caller's business. */
  async get(actor: OrderActor, id: string): Promise<OrderView> {
    const order = await this.retrying(() => this.orders.find(id));
    if (!order || !mayActOn(actor, order.customerSubject)) throw new OrderNotFoundError(id);
    return toView(order);
  }

  /** The actor's orders (staff: every order), newest first, keyset-paginated so pages stay stable while orders arrive. */
  async list(actor: OrderActor, query: ListOrdersQuery): Promise<OrderPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new InvalidCursorError();
    // One more than the page: whether it comes back says if there is a next page.
    const orders = await this.retrying(() =>
      this.orders.findPage({
        customerSubject: ownerFilter(actor),
        status: query.status,
        after,
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
  async cancel(actor: OrderActor, id: string): Promise<OrderView> {
    bindCorrelationId(id);
    const cancelled = await this.retrying(() =>
      this.orders.inTransaction(async (tx) => {
        const current = await this.orders.lockStatus(tx, id);
        if (!current || !mayActOn(actor, current.customerSubject)) {
          throw new OrderNotFoundError(id);
        }
        const { status } = current;
        if (!canTransition(status, 'CANCELLED')) {
          throw new OrderNotCancellableError(id, status);
        }
        const order = await this.orders.markCancelled(tx, id);
        const event = createEvent(
          OrderCancelled,
          {
            orderId: id,
            customerEmail: order.customerEmail,
            items: order.items as OrderLine[],
            previousStatus: status as 'PENDING' | 'CONFIRMED',
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
    await this.orders.inTransaction(async (tx) => {
      const fresh = await claimEvents(tx, events);
      if (fresh.length === 0) return;
      const confirmed = await this.orders.confirmPending(
        tx,
        fresh.map((event) => event.payload.orderId),
      );
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
    await this.orders.inTransaction(async (tx) => {
      const fresh = await claimEvents(tx, events);
      if (fresh.length === 0) return;
      const rejected = await this.orders.rejectPending(
        tx,
        fresh.map(({ payload }) => ({
          orderId: payload.orderId,
          code: payload.reason.code,
          reason: describeRejection(payload.reason),
        })),
      );
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
