import { backoffDelay } from './retry';

const policy = { attempts: 5, initialDelayMs: 200, maxDelayMs: 1_000 };

describe('retry backoff', () => {
  it('doubles the ceiling with each attempt', () => {
    expect(backoffDelay(policy, 1, () => 1)).toBe(200);
    expect(backoffDelay(policy, 2, () => 1)).toBe(400);
    expect(backoffDelay(policy, 3, () => 1)).toBe(800);
  });

  it('never waits longer than the maximum', () => {
    expect(backoffDelay(policy, 10, () => 1)).toBe(1_000);
  });

  it('waits at least half the ceiling, so jitter cannot make a retry immediate', () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(200);
  });
});
