export interface RetryPolicy {
  /** Tries of one message before a non-transient failure sends it to the dead-letter topic. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /**
   * Failures of infrastructure (database restarting, deadlock, timeout) that will pass: they are
   * retried past `attempts`, for up to `transientRetryForMs`, so an outage does not dead-letter
   * every message that arrives during it.
   */
  isTransient: (error: unknown) => boolean;
  transientRetryForMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  initialDelayMs: 200,
  maxDelayMs: 5_000,
  isTransient: () => false,
  transientRetryForMs: 15 * 60_000,
};

/** Exponential backoff with full jitter, so retrying consumers do not stampede together. */
export function backoffDelay(
  policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs'>,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface FailureHistory {
  /** Attempts made so far, including the one that just failed. */
  attempts: number;
  firstFailedAt: number;
}

export type FailureDecision = { action: 'retry'; delayMs: number } | { action: 'dead-letter' };

/** What to do with a message whose handler just failed: try again later, or give up on it. */
export function decideOnFailure(
  policy: RetryPolicy,
  error: unknown,
  history: FailureHistory,
  now: number = Date.now(),
  random: () => number = Math.random,
): FailureDecision {
  const withinBudget = policy.isTransient(error)
    ? now - history.firstFailedAt < policy.transientRetryForMs
    : history.attempts < policy.attempts;
  if (!withinBudget) return { action: 'dead-letter' };
  return { action: 'retry', delayMs: backoffDelay(policy, history.attempts, random) };
}
