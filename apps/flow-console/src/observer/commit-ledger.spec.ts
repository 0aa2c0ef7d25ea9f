import type { ClusterSnapshot } from '@shop/messaging';
import { CommitLedger } from './commit-ledger';

function snapshot(takenAt: number, committed: string, high = '10'): ClusterSnapshot {
  return {
    takenAt,
    topics: [{ topic: 'order-events', partitions: [{ partition: 0, high }] }],
    groups: [
      {
        groupId: 'inventory-service',
        state: 'Stable',
        members: [],
        committed: [{ topic: 'order-events', partition: 0, offset: committed }],
      },
    ],
  };
}

describe('CommitLedger', () => {
  it('says when a group was first seen past a record, and null before', () => {
    const ledger = new CommitLedger();
    ledger.record(snapshot(1_000, '5'));
    ledger.record(snapshot(2_000, '5'));
    ledger.record(snapshot(3_000, '8'));
    expect(ledger.passedAt('inventory-service', 'order-events', 0, '4')).toBe(1_000);
    expect(ledger.passedAt('inventory-service', 'order-events', 0, '5')).toBe(3_000);
    expect(ledger.passedAt('inventory-service', 'order-events', 0, '8')).toBeNull();
    expect(ledger.passedAt('order-service', 'order-events', 0, '1')).toBeNull();
  });

  it('samples each group total lag over time', () => {
    const ledger = new CommitLedger();
    ledger.record(snapshot(1_000, '5', '10'));
    ledger.record(snapshot(2_000, '9', '12'));
    expect(ledger.lagHistory('inventory-service')).toEqual([
      { at: 1_000, lag: 5 },
      { at: 2_000, lag: 3 },
    ]);
  });
});
