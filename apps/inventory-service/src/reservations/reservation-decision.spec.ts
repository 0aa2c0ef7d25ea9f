import { decideReservation, decideReservations } from './reservation-decision';

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

describe('reservation decisions for a batch of orders', () => {
  it('lets a later order see what the orders before it reserved', () => {
    const decided = decideReservations(
      [{ items: [{ sku: 'A', quantity: 3 }] }, { items: [{ sku: 'A', quantity: 2 }] }],
      [{ sku: 'A', available: 5 }],
    );
    expect(decided.map(({ decision }) => decision)).toEqual([
      { kind: 'reserve', lines: [{ sku: 'A', quantity: 3 }] },
      { kind: 'reserve', lines: [{ sku: 'A', quantity: 2 }] },
    ]);
  });

  it('rejects the order that comes second when two compete for the last units, naming what was left', () => {
    const decided = decideReservations(
      [{ items: [{ sku: 'A', quantity: 4 }] }, { items: [{ sku: 'A', quantity: 2 }] }],
      [{ sku: 'A', available: 5 }],
    );
    expect(decided.map(({ decision }) => decision)).toEqual([
      { kind: 'reserve', lines: [{ sku: 'A', quantity: 4 }] },
      {
        kind: 'reject',
        reason: { code: 'INSUFFICIENT_STOCK', sku: 'A', requested: 2, available: 1 },
      },
    ]);
  });

  it('leaves the stock untouched by a rejected order for the orders after it', () => {
    const decided = decideReservations(
      [
        {
          items: [
            { sku: 'A', quantity: 4 },
            { sku: 'B', quantity: 9 },
          ],
        },
        { items: [{ sku: 'A', quantity: 5 }] },
      ],
      [
        { sku: 'A', available: 5 },
        { sku: 'B', available: 1 },
      ],
    );
    expect(decided.map(({ decision }) => decision.kind)).toEqual(['reject', 'reserve']);
  });

  it('rejects only the order naming an unknown SKU', () => {
    const decided = decideReservations(
      [{ items: [{ sku: 'GHOST', quantity: 1 }] }, { items: [{ sku: 'A', quantity: 1 }] }],
      [{ sku: 'A', available: 1 }],
    );
    expect(decided.map(({ decision }) => decision)).toEqual([
      { kind: 'reject', reason: { code: 'UNKNOWN_SKU', sku: 'GHOST' } },
      { kind: 'reserve', lines: [{ sku: 'A', quantity: 1 }] },
    ]);
  });

  it('keeps the orders in the given order, each with its own decision', () => {
    const first = { orderId: 'first', items: [{ sku: 'B', quantity: 1 }] };
    const second = { orderId: 'second', items: [{ sku: 'A', quantity: 1 }] };
    const decided = decideReservations(
      [first, second],
      [
        { sku: 'A', available: 0 },
        { sku: 'B', available: 1 },
      ],
    );
    expect(decided.map(({ order, decision }) => [order, decision.kind])).toEqual([
      [first, 'reserve'],
      [second, 'reject'],
    ]);
  });
});
