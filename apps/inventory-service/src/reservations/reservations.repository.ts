import { Injectable, Optional } from '@nestjs/common';
import type { OrderLine } from '@shop/contracts';
import { OutboxRelay } from '@shop/messaging';
import { inOutboxTransaction } from '@shop/service-kit';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { StockLevel } from './reservation-decision';

/** The transaction reservations change in; the inbox and outbox helpers take it too. */
export type ReservationsTransaction = Prisma.TransactionClient;

/** One line an order now holds. */
export interface HeldLine extends OrderLine {
  orderId: string;
}

/** How reservations and the stock levels they move are stored. */
@Injectable()
export class ReservationsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Optional() private readonly relay?: OutboxRelay,
  ) {}

  /** Once it commits, what it queued in the outbox is published at once. */
  inTransaction<T>(work: (tx: ReservationsTransaction) => Promise<T>): Promise<T> {
    return inOutboxTransaction((run) => this.prisma.$transaction(run), this.relay, work);
  }

  /** Locks the products' rows for the transaction, in SKU order so batches never deadlock. */
  lockStock(tx: ReservationsTransaction, skus: readonly string[]): Promise<StockLevel[]> {
    return tx.$queryRaw<StockLevel[]>`
      SELECT sku, available FROM products WHERE sku = ANY(${skus}::text[]) ORDER BY sku FOR UPDATE`;
  }

  /** Moves the lines' quantities from available to reserved and records them as HELD. */
  async hold(tx: ReservationsTransaction, lines: readonly HeldLine[]): Promise<void> {
    if (lines.length === 0) return;
    const totals = sumBySku(lines);
    await tx.$executeRaw`
      UPDATE products AS p
         SET available = p.available - l.quantity, reserved = p.reserved + l.quantity, updated_at = now()
        FROM unnest(${[...totals.keys()]}::text[], ${[...totals.values()]}::int[]) AS l(sku, quantity)
       WHERE p.sku = l.sku`;
    await tx.$executeRaw`
      INSERT INTO reservations (order_id, sku, quantity)
      SELECT * FROM unnest(${lines.map((line) => line.orderId)}::uuid[],
                           ${lines.map((line) => line.sku)}::text[],
                           ${lines.map((line) => line.quantity)}::int[])`;
  }

  /** Marks what the order still holds RELEASED; returns those lines in SKU order. */
  async releaseHeld(tx: ReservationsTransaction, orderId: string): Promise<OrderLine[]> {
    const released = await tx.$queryRaw<OrderLine[]>`
      UPDATE reservations SET status = 'RELEASED', released_at = now()
       WHERE order_id = ${orderId}::uuid AND status = 'HELD'
      RETURNING sku, quantity`;
    return released.sort((a, b) => a.sku.localeCompare(b.sku));
  }

  /** Moves the lines' quantities from reserved back to available. */
  async restock(tx: ReservationsTransaction, lines: readonly OrderLine[]): Promise<void> {
    const values = Prisma.join(
      lines.map((line) => Prisma.sql`(${line.sku}, ${line.quantity}::int)`),
    );
    await tx.$executeRaw`
      UPDATE products AS p
         SET available = p.available + l.quantity, reserved = p.reserved - l.quantity, updated_at = now()
        FROM (VALUES ${values}) AS l(sku, quantity)
       WHERE p.sku = l.sku`;
  }
}

function sumBySku(lines: readonly OrderLine[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return totals;
}
