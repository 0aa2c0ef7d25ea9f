/**
 * Postgres SQLSTATEs after which the same work, on a fresh connection, can succeed: the server is
 * shutting down, restarting or full (57P01-03, 53300), or the transaction lost a serialization
 * or deadlock race (40001, 40P01). Class 08 (connection exception) is matched by prefix.
 */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);

/** Socket failures: nothing listens (yet), or the connection dropped. */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * Prisma's own codes: server unreachable or timed out (P1001, P1002), connection closed (P1017),
 * write conflict or deadlock (P2034), and a transaction that could not start in time or expired
 * before its commit (P2028) — it never committed, so running it again is safe.
 */
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2028', 'P2034']);

/** The `kind` that @prisma/adapter-pg gives the error it wraps (DriverAdapterError.cause). */
const TRANSIENT_ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionWriteConflict',
]);

/** node-postgres raises these without any code when a connection dies under a query. */
const TRANSIENT_MESSAGES = [
  /^Connection terminated/,
  /is not queryable/,
  /timeout exceeded when trying to connect/,
];

interface ErrorLike {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  meta?: { driverAdapterError?: unknown };
}

/**
 * Whether a database call failed for a reason that retrying soon can cure (a restart, a dropped
 * connection, a serialization conflict), rather than because of the query or the data.
 *
 * Walks everything an error wraps: Prisma puts the driver adapter's error in
 * `meta.driverAdapterError`, whose `cause` holds the Postgres code or a `kind`; the adapter also
 * throws node-postgres' own errors unwrapped; Node's connect errors may be AggregateErrors.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 32) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const candidate = current as ErrorLike;
    if (isTransientCode(candidate.code)) return true;
    if (typeof candidate.kind === 'string' && TRANSIENT_ADAPTER_KINDS.has(candidate.kind)) {
      return true;
    }
    const message = candidate.message;
    if (
      typeof message === 'string' &&
      TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))
    ) {
      return true;
    }
    pending.push(candidate.cause, candidate.meta?.driverAdapterError);
    if (Array.isArray(candidate.errors)) pending.push(...candidate.errors);
  }
  return false;
}

function isTransientCode(code: unknown): boolean {
  if (typeof code !== 'string') return false;
  return (
    TRANSIENT_SQLSTATES.has(code) ||
    /^08[0-9A-Z]{3}$/.test(code) ||
    TRANSIENT_SOCKET_CODES.has(code) ||
    TRANSIENT_PRISMA_CODES.has(code)
  );
}

export interface RetryTransientOptions {
  /** Stop retrying once the next attempt would start later than this after the first (10 s). */
  budgetMs?: number;
  /** The first pause; each following one doubles, up to maxDelayMs (100 ms, 1 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Which errors are worth another attempt; transient database errors by default. */
  retryIf?: (error: unknown) => boolean;
  /** Called before each pause, e.g. to log. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

/**
 * Runs `fn` until it succeeds, fails for a reason retrying cannot cure, or the time budget is
 * spent; then the last error is thrown as is. `fn` gets the attempt number (1-based), so work
 * whose commit may have landed before the connection dropped can look for its own result first.
 */
export async function retryTransient<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryTransientOptions = {},
): Promise<T> {
  const budgetMs = options.budgetMs ?? 10_000;
  const initialDelayMs = options.initialDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 1_000;
  const retryIf = options.retryIf ?? isTransientDatabaseError;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!retryIf(error)) throw error;
      const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      // Half fixed, half random: replicas retrying together do not hit the database in step.
      const delayMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      if (now() + delayMs - started > budgetMs) throw error;
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
