import { Inject, Injectable } from '@nestjs/common';
import {
  createEvent,
  StockReleased,
  StockReservationRejected,
  StockReserved,
  type OrderCancelledEvent,
  type OrderPlacedEvent,
} from '@shop/contracts';
import { runWithLogContext, type Logger } from '@shop/logging';
import { toOutboxRecord, type OutboxRecord } from '@shop/messaging';
import {
  appendAllToOutbox,
  appendToOutbox,
  claimEvent,
  claimEvents,
  LOGGER,
} from '@shop/service-kit';
import { decideReservations, type ReservationDecision } from './reservation-decision';
import { ReservationsRepository } from './reservations.repository';

/** Reserves stock for placed orders and releases it for cancelled ones, exactly once per event. */
@Injectable()
export class ReservationsService {
  constructor(
    private readonly reservations: ReservationsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A batch of placed orders in one transaction, ending as reserving them one at a time in the
   * given (offset) order would: each order gets every line or none, and a redelivered one nothing.
   * The product rows of all orders are locked at once, in SKU order so that two batches can never
   * deadlock, before any decision, so concurrent batches cannot oversell.
   */
  async reserveAll(events: readonly OrderPlacedEvent[]): Promise<void> {
    const decided = await this.reservations.inTransaction(async (tx) => {
      const orders = await claimEvents(tx, events);
      if (orders.length === 0) return [];
      const skus = [
        ...new Set(orders.flatMap((event) => event.payload.items.map((item) => item.sku))),
      ];
      const stock = await this.reservations.lockStock(tx, skus);
      const decisions = decideReservations(
        orders.map((event) => ({ event, items: event.payload.items })),
        stock,
      );
      await this.reservations.hold(
        tx,
        decisions.flatMap(({ order, decision }) =>
          decision.kind === 'reserve'
            ? decision.lines.map((line) => ({ orderId: order.event.payload.orderId, ...line }))
            : [],
        ),
      );
      await appendAllToOutbox(
        tx,
        decisions.map(({ order, decision }) => answerTo(order.event, decision)),
      );
      return decisions;
    });
    // Only once committed: a batch that fails is handled again one event at a time.
    for (const { order, decision } of decided) this.logDecision(order.event, decision);
  }

  /** Gives back exactly what the order holds; a second delivery, or an order that held nothing, changes nothing. */
  async release(event: OrderCancelledEvent): Promise<void> {
    const { orderId } = event.payload;
    await this.reservations.inTransaction(async (tx) => {
      if (!(await claimEvent(tx, event))) return;
      const released = await this.reservations.releaseHeld(tx, orderId);
      if (released.length === 0) {
        this.logger.info({ orderId }, 'cancelled order held no stock; nothing to release');
        return;
      }
      this.logger.info({ orderId, lines: released.length }, 'stock released');
      await this.reservations.restock(tx, released);
      await appendToOutbox(
        tx,
        StockReleased,
        createEvent(
          StockReleased,
          { orderId, items: released },
          { correlationId: event.correlationId, causationId: event.eventId },
        ),
      );
    });
  }

  private logDecision(event: OrderPlacedEvent, decision: ReservationDecision): void {
    const { orderId } = event.payload;
    const context = {
      correlationId: event.correlationId,
      eventId: event.eventId,
      eventType: event.type,
    };
    runWithLogContext(context, () => {
      if (decision.kind === 'reserve') {
        this.logger.info({ orderId, lines: decision.lines.length }, 'stock reserved');
      } else {
        this.logger.info({ orderId, reason: decision.reason }, 'reservation rejected');
      }
    });
  }
}

/** The event announcing what became of an order, caused by its OrderPlaced. */
function answerTo(event: OrderPlacedEvent, decision: ReservationDecision): OutboxRecord {
  const { orderId } = event.payload;
  const context = { correlationId: event.correlationId, causationId: event.eventId };
  return decision.kind === 'reserve'
    ? toOutboxRecord(
        StockReserved,
        createEvent(StockReserved, { orderId, items: decision.lines }, context),
      )
    : toOutboxRecord(
        StockReservationRejected,
        createEvent(StockReservationRejected, { orderId, reason: decision.reason }, context),
      );
}
