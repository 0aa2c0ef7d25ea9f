import type { OrderLine, ReservationRejection } from '@shop/contracts';

export interface StockLevel {
  sku: string;
  available: number;
}

export type ReservationDecision =
  { kind: 'reserve'; lines: OrderLine[] } | { kind: 'reject'; reason: ReservationRejection };

/**
 * All or nothing: every line must name a known SKU with enough available stock, else the
 * first failing line (in SKU order, so the answer is deterministic) is the reason.
 */
export function decideReservation(
  lines: readonly OrderLine[],
  stock: readonly StockLevel[],
): ReservationDecision {
  const availableBySku = new Map(stock.map((level) => [level.sku, level.available]));
  const sorted = [...lines].sort((a, b) => a.sku.localeCompare(b.sku));
  for (const line of sorted) {
    const available = availableBySku.get(line.sku);
    if (available === undefined)
      return { kind: 'reject', reason: { code: 'UNKNOWN_SKU', sku: line.sku } };
    if (available < line.quantity) {
      return {
        kind: 'reject',
        reason: { code: 'INSUFFICIENT_STOCK', sku: line.sku, requested: line.quantity, available },
      };
    }
  }
  return { kind: 'reserve', lines: sorted };
}
