import { Inject, Injectable } from '@nestjs/common';
import {
  createEvent,
  StockReleased,
  StockReservationRejected,
  StockReserved,
  type OrderCancelledEvent,
  type OrderPlacedEvent,
} from '@shop/contracts';
import type { Logger } from '@shop/logging';
import { appendToOutbox, claimEvent, LOGGER } from '@shop/service-kit';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import { decideReservation, type StockLevel } from './reservation-decision';

/** Reserves stock for placed orders and releases it for cancelled ones, exactly once per event. */
@Injectable()
export class ReservationsService {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Every line or none, in one transaction. The product rows are locked (in SKU order, so two
   * orders can never deadlock) before the decision, so concurrent orders cannot oversell.
   */
  async reserve(event: OrderPlacedEvent): Promise<void> {
    const { orderId, items } = event.payload;
    const context = { correlationId: event.correlationId, causationId: event.eventId };
    await this.prisma.$transaction(async (tx) => {
      if (!(await claimEvent(tx, event))) return;
      const skus = items.map((item) => item.sku);
      const stock = await tx.$queryRaw<StockLevel[]>`
        SELECT sku, available FROM products WHERE sku = ANY(${skus}::text[]) ORDER BY sku FOR UPDATE`;
      const decision = decideReservation(items, stock);
      if (decision.kind === 'reject') {
        this.logger.info({ orderId, reason: decision.reason }, 'reservation rejected');
        await appendToOutbox(
          tx,
          StockReservationRejected,
          createEvent(StockReservationRejected, { orderId, reason: decision.reason }, context),
        );
        return;
      }
      const values = Prisma.join(
        decision.lines.map((line) => Prisma.sql`(${line.sku}, ${line.quantity}::int)`),
      );
      await tx.$executeRaw`
        UPDATE products AS p
           SET available = p.available - l.quantity, reserved = p.reserved + l.quantity, updated_at = now()
          FROM (VALUES ${values}) AS l(sku, quantity)
         WHERE p.sku = l.sku`;
      await tx.reservation.createMany({
        data: decision.lines.map((line) => ({ orderId, sku: line.sku, quantity: line.quantity })),
      });
      await appendToOutbox(
        tx,
        StockReserved,
        createEvent(StockReserved, { orderId, items: decision.lines }, context),
      );
      this.logger.info({ orderId, lines: decision.lines.length }, 'stock reserved');
    });
  }

  /** Gives back exactly what the order holds; a second delivery, or an order that held nothing, changes nothing. */
  async release(event: OrderCancelledEvent): Promise<void> {
    const { orderId } = event.payload;
    await this.prisma.$transaction(async (tx) => {
      if (!(await claimEvent(tx, event))) return;
      const released = await tx.$queryRaw<Array<{ sku: string; quantity: number }>>`
        UPDATE reservations SET status = 'RELEASED', released_at = now()
         WHERE order_id = ${orderId}::uuid AND status = 'HELD'
        RETURNING sku, quantity`;
      if (released.length === 0) {
        this.logger.info({ orderId }, 'cancelled order held no stock; nothing to release');
        return;
      }
      released.sort((a, b) => a.sku.localeCompare(b.sku));
      this.logger.info({ orderId, lines: released.length }, 'stock released');
      const values = Prisma.join(
        released.map((line) => Prisma.sql`(${line.sku}, ${line.quantity}::int)`),
      );
      await tx.$executeRaw`
        UPDATE products AS p
           SET available = p.available + l.quantity, reserved = p.reserved - l.quantity, updated_at = now()
          FROM (VALUES ${values}) AS l(sku, quantity)
         WHERE p.sku = l.sku`;
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
}
