/** Where a consumed event was read from, and which replica handled it. */
export interface Delivery {
  topic: string;
  partition: number;
  offset: string;
  replica: string;
  /** When the batch holding it reached this replica's handlers, ms since the epoch. */
  fetchedAt: number;
}

// Handlers receive the event itself (Nest passes one argument), so the transport attaches where
// it came from to the event object instead of widening every handler's signature and contract.
const deliveries = new WeakMap<object, Delivery>();

export function attachDelivery(event: object, delivery: Delivery): void {
  deliveries.set(event, delivery);
}

/** Undefined for an event that did not arrive through the transport (a unit test, a replay tool). */
export function deliveryOf(event: object): Delivery | undefined {
  return deliveries.get(event);
}
