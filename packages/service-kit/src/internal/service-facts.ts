/** Injection token of a service's own facts, read by the internal endpoints. */
export const SERVICE_FACTS = Symbol('SERVICE_FACTS');

/** Named figures a service adds to its running figures, e.g. `{ emailsPending: 3 }`. */
export type ServiceFigures = Record<string, number>;

/**
 * What a service knows of one order beyond its outbox and the events it handled: its own rows.
 * Each service implements it over its own schema; nobody else reads that schema.
 */
export interface ServiceFacts {
  aboutOrder(orderId: string): Promise<Record<string, unknown>>;
  figures(): Promise<ServiceFigures>;
}
