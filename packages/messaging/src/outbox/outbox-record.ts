import type { EventContract, EventOf } from '@shop/contracts';
import { traceCarrierFor, type TraceCarrier } from '../tracing';

/**
 * The row a domain transaction writes to its schema's `outbox_events` table, next to the
 * state change it announces. Every service's table has these columns (see its migrations).
 */
export interface OutboxRecord {
  eventId: string;
  eventType: string;
  topic: string;
  messageKey: string;
  payload: EventOf<EventContract>;
  /** Where the writer's trace stood (W3C trace context), so the send continues it; null untraced. */
  traceContext?: TraceCarrier | null;
}

export function toOutboxRecord<C extends EventContract>(
  contract: C,
  event: EventOf<C>,
): OutboxRecord {
  return {
    eventId: event.eventId,
    eventType: event.type,
    topic: contract.topic,
    messageKey: contract.key(event.payload),
    payload: event,
    // The event that caused this one is being handled now: the new row continues its trace.
    traceContext: traceCarrierFor(event.causationId),
  };
}
