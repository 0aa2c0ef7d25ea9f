import type { EventContract, EventOf } from '@shop/contracts';

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
  };
}
