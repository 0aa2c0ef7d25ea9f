/** Sending attempts per email, counting the first; after the last failure the email is FAILED. */
export const MAX_DELIVERY_ATTEMPTS = 10;

/** Wait after the first failure; it doubles with every further failure, up to the ceiling. */
export const FIRST_RETRY_DELAY_MS = 5_000;
export const MAX_RETRY_DELAY_MS = 15 * 60_000;

/**
 * How long a claimed email is hidden from other dispatchers while it is being sent: longer than
 * any send can take (the SMTP timeouts), so only a crashed dispatcher's claim ever expires.
 */
export const CLAIM_LEASE_MS = 2 * 60_000;

/** Stored error texts are cut to this length. */
const MAX_ERROR_LENGTH = 1_000;

export type AfterFailure = { status: 'PENDING'; nextAttemptAt: Date } | { status: 'FAILED' };

/** The delay before the next try, after `attempts` failed tries: 5 s, 10 s, 20 s, … capped at 15 min. */
export function retryDelayMs(attempts: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, attempts - 1));
}

/** What becomes of an email whose `attempts`-th try failed: retried later, or given up on. */
export function afterFailure(attempts: number, now: Date): AfterFailure {
  if (attempts >= MAX_DELIVERY_ATTEMPTS) return { status: 'FAILED' };
  return { status: 'PENDING', nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts)) };
}

/**
 * The Message-ID of the email an event causes. Deterministic, so if the dispatcher dies between
 * the SMTP server accepting the email and the row being marked SENT, the resent copy carries the
 * same id and mail systems that de-duplicate by Message-ID drop it.
 */
export function messageIdFor(eventId: string): string {
  return `<${eventId}@notification.shop>`;
}

export function describeSendError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
