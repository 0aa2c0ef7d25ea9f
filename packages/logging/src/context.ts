import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line of one unit of work (an HTTP request, a consumed event) carries. */
export interface LogContext {
  correlationId?: string;
  eventId?: string;
  eventType?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function runWithLogContext<T>(context: LogContext, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, work);
}

export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}

/**
 * Names the business flow the current unit of work belongs to, once it is known (an order id is
 * created inside the request that places the order): every later log line of it carries the id.
 */
export function bindCorrelationId(correlationId: string): void {
  const store = storage.getStore();
  if (store) store.correlationId = correlationId;
}
