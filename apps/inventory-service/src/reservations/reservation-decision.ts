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
  return decideAgainst(lines, new Map(stock.map((level) => [level.sku, level.available])));
}

/**
 * Decides orders in the given order, each against the stock the orders before it left: an
 * accepted order's lines are taken off the running levels, a rejected one leaves them as they were.
 * The outcome is the one of reserving the orders one at a time in that order.
 */
export function decideReservations<O extends { items: readonly OrderLine[] }>(
  orders: readonly O[],
  stock: readonly StockLevel[],
): Array<{ order: O; decision: ReservationDecision }> {
  const availableBySku = new Map(stock.map((level) => [level.sku, level.available]));
  return orders.map((order) => {
    const decision = decideAgainst(order.items, availableBySku);
    if (decision.kind === 'reserve') {
      for (const line of decision.lines) {
        availableBySku.set(line.sku, (availableBySku.get(line.sku) ?? 0) - line.quantity);
      }
    }
    return { order, decision };
  });
}

function decideAgainst(
  lines: readonly OrderLine[],
  availableBySku: ReadonlyMap<string, number>,
): ReservationDecision {
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
