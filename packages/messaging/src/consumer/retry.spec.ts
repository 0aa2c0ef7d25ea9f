import { backoffDelay, decideOnFailure, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

const policy: RetryPolicy = {
  ...DEFAULT_RETRY_POLICY,
  attempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 1_000,
  isTransient: (error) => error instanceof Error && error.message === 'connection refused',
  transientRetryForMs: 60_000,
};

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

describe('deciding on a failed message', () => {
  const bug = new Error('cannot read properties of undefined');
  const outage = new Error('connection refused');

  it('retries a handler error until the attempts are used up, then dead-letters it', () => {
    const at = (attempts: number) =>
      decideOnFailure(policy, bug, { attempts, firstFailedAt: 0 }, 0);
    expect(at(1)).toEqual({ action: 'retry', delayMs: expect.any(Number) });
    expect(at(2).action).toBe('retry');
    expect(at(3)).toEqual({ action: 'dead-letter' });
  });

  it('keeps retrying a transient failure past the attempts, for as long as the policy allows', () => {
    const history = { attempts: 50, firstFailedAt: 1_000 };
    expect(decideOnFailure(policy, outage, history, 60_999).action).toBe('retry');
    expect(decideOnFailure(policy, outage, history, 61_000)).toEqual({ action: 'dead-letter' });
  });

  it('backs off according to the attempts made', () => {
    const decision = decideOnFailure(policy, bug, { attempts: 2, firstFailedAt: 0 }, 0, () => 1);
    expect(decision).toEqual({ action: 'retry', delayMs: 400 });
  });
});
