import { canonicalJson, requestFingerprint } from './request-fingerprint';

const order = { customerEmail: 'ada@example.com', items: [{ sku: 'KB-1', quantity: 2 }] };

describe('request fingerprint', () => {
  it('is the same for the same body whatever the order of its fields', () => {
    const reordered = { items: [{ quantity: 2, sku: 'KB-1' }], customerEmail: 'ada@example.com' };
    expect(requestFingerprint(reordered)).toBe(requestFingerprint(order));
  });

  it('differs when any value differs', () => {
    const more = { ...order, items: [{ sku: 'KB-1', quantity: 3 }] };
    expect(requestFingerprint(more)).not.toBe(requestFingerprint(order));
    expect(requestFingerprint({ ...order, customerEmail: 'bob@example.com' })).not.toBe(
      requestFingerprint(order),
    );
  });

  it('counts the order of the lines, as they are kept as placed', () => {
    const lines = [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 1 },
    ];
    expect(requestFingerprint({ items: lines })).not.toBe(
      requestFingerprint({ items: [...lines].reverse() }),
    );
  });

  it('writes canonical JSON: sorted keys, no whitespace, absent fields left out', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined })).toBe(
      '{"a":[true,null,"x"],"b":1}',
    );
    expect(requestFingerprint(order)).toMatch(/^[0-9a-f]{64}$/);
  });
});
