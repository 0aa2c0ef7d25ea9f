import type { OrderStatus } from './order-status';

export class OrderNotFoundError extends Error {
  constructor(readonly orderId: string) {
    super(`order ${orderId} does not exist`);
  }
}

export class OrderNotCancellableError extends Error {
  constructor(
    readonly orderId: string,
    readonly status: OrderStatus,
  ) {
    super(`order ${orderId} is ${status} and can no longer be cancelled`);
  }
}

export class InvalidCursorError extends Error {
  constructor() {
    super('cursor is not one returned by this API (use nextCursor from the previous page)');
  }
}

/** The same idempotency key came with a different request: answering with the first order would hide the change. */
export class IdempotencyKeyReusedError extends Error {
  // The answer names no order: whoever holds the key may be someone else.
  constructor(readonly orderId: string) {
    super('this key was already used for a different request; use a new key for a new order');
  }
}
