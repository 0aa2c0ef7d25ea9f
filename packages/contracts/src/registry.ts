import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { envelopeSchema, type EventContract, type EventOf, type PayloadOf } from './envelope';
import { OrderCancelled } from './events/order-cancelled.event';
import { OrderConfirmed } from './events/order-confirmed.event';
import { OrderPlaced } from './events/order-placed.event';
import { OrderRejected } from './events/order-rejected.event';
import { StockReleased } from './events/stock-released.event';
import { StockReservationRejected } from './events/stock-reservation-rejected.event';
import { StockReserved } from './events/stock-reserved.event';

export const ALL_EVENTS: readonly EventContract[] = [
  OrderPlaced,
  OrderConfirmed,
  OrderRejected,
  OrderCancelled,
  StockReserved,
  StockReservationRejected,
  StockReleased,
];

export interface EventContext {
  correlationId: string;
  causationId: string | null;
}

export class InvalidEventError extends Error {
  constructor(
    message: string,
    readonly eventId: string | undefined,
    readonly eventType: string | undefined,
  ) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** Builds a new event and validates it against its contract, so nothing invalid is ever written. */
export function createEvent<C extends EventContract>(
  contract: C,
  payload: PayloadOf<C>,
  context: EventContext,
  now: Date = new Date(),
): EventOf<C> {
  const candidate = {
    eventId: randomUUID(),
    type: contract.type,
    version: contract.version,
    occurredAt: now.toISOString(),
    correlationId: context.correlationId,
    causationId: context.causationId,
    payload,
  };
  const result = contract.schema.safeParse(candidate);
  if (!result.success) {
    throw new InvalidEventError(
      `refusing to publish invalid ${contract.type} v${contract.version}: ${formatIssues(result.error)}`,
      candidate.eventId,
      contract.type,
    );
  }
  return result.data as EventOf<C>;
}

/** Built once: zod compiles a schema on its first parse, and `loose()` makes a new one each call. */
const envelopeHeader = envelopeSchema.loose();

export type Decoded =
  | { kind: 'event'; contract: EventContract; event: EventOf<EventContract> }
  | { kind: 'unhandled'; eventId: string; type: string; version: number }
  | { kind: 'invalid'; error: InvalidEventError };

/**
 * Parses raw message bytes into one of the given contracts.
 * A well-formed event of a type the caller does not handle is `unhandled` (ignored, not an error):
 * consumers of a shared topic skip what is not theirs. A type it handles at an unknown version is invalid.
 */
export function decodeEvent(
  raw: Buffer | string | null,
  handled: readonly EventContract[],
): Decoded {
  if (raw === null) return invalid('message has no value');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch (error) {
    return invalid(`message is not JSON: ${(error as Error).message}`);
  }
  const header = envelopeHeader.safeParse(json);
  if (!header.success) {
    const id = extractString(json, 'eventId');
    return invalid(
      `envelope is invalid: ${formatIssues(header.error)}`,
      id,
      extractString(json, 'type'),
    );
  }
  const { eventId, type, version } = header.data;
  const sameType = handled.filter((contract) => contract.type === type);
  if (sameType.length === 0) return { kind: 'unhandled', eventId, type, version };
  const contract = sameType.find((candidate) => candidate.version === version);
  if (!contract) {
    const known = sameType.map((candidate) => candidate.version).join(', ');
    return invalid(
      `${type} version ${version} is unknown (this consumer reads ${known})`,
      eventId,
      type,
    );
  }
  const parsed = contract.schema.safeParse(json);
  if (!parsed.success) {
    return invalid(`${type} v${version} is invalid: ${formatIssues(parsed.error)}`, eventId, type);
  }
  return { kind: 'event', contract, event: parsed.data };
}

export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function invalid(message: string, eventId?: string, type?: string): Decoded {
  return { kind: 'invalid', error: new InvalidEventError(message, eventId, type) };
}

function extractString(value: unknown, field: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const found = (value as Record<string, unknown>)[field];
  return typeof found === 'string' ? found : undefined;
}
