import { decideReservation } from './reservation-decision';

describe('reservation decision', () => {
  it('reserves every line when each SKU has enough available stock', () => {
    const decision = decideReservation(
      [
        { sku: 'B', quantity: 2 },
        { sku: 'A', quantity: 5 },
      ],
      [
        { sku: 'A', available: 5 },
        { sku: 'B', available: 10 },
      ],
    );
    expect(decision).toEqual({
      kind: 'reserve',
      lines: [
        { sku: 'A', quantity: 5 },
        { sku: 'B', quantity: 2 },
      ],
    });
  });

  it('rejects the whole order naming an unknown SKU', () => {
    const decision = decideReservation(
      [
        { sku: 'A', quantity: 1 },
        { sku: 'GHOST', quantity: 1 },
      ],
      [{ sku: 'A', available: 5 }],
    );
    expect(decision).toEqual({ kind: 'reject', reason: { code: 'UNKNOWN_SKU', sku: 'GHOST' } });
  });

  it('rejects the whole order naming the SKU without enough stock and how much there is', () => {
    const decision = decideReservation(
      [
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: 3 },
      ],
      [
        { sku: 'A', available: 5 },
        { sku: 'B', available: 2 },
      ],
    );
    expect(decision).toEqual({
      kind: 'reject',
      reason: { code: 'INSUFFICIENT_STOCK', sku: 'B', requested: 3, available: 2 },
    });
  });

  it('treats stock exactly equal to the request as enough', () => {
    expect(decideReservation([{ sku: 'A', quantity: 5 }], [{ sku: 'A', available: 5 }]).kind).toBe(
      'reserve',
    );
  });

  it('rejects when no stock is left', () => {
    expect(decideReservation([{ sku: 'A', quantity: 1 }], [{ sku: 'A', available: 0 }]).kind).toBe(
      'reject',
    );
  });
});
