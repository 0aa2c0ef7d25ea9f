import type { EventContract, EventOf } from '@shop/contracts';
import { toOutboxRecord } from '@shop/messaging';

/** The slice of a Prisma transaction client these helpers need; every service's client has it. */
export interface RawSqlExecutor {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

/**
 * Records a consumed event's id in the same transaction as its effect. Returns false when the
 * id is already there: the event was handled before (a redelivery) and its effect must not repeat.
 */
export async function claimEvent(
  tx: RawSqlExecutor,
  event: Pick<EventOf<EventContract>, 'eventId' | 'type'>,
): Promise<boolean> {
  const inserted = await tx.$executeRaw`
    INSERT INTO processed_events (event_id, event_type) VALUES (${event.eventId}::uuid, ${event.type})
    ON CONFLICT (event_id) DO NOTHING`;
  return inserted === 1;
}

/** Adds an event to the outbox inside the caller's transaction: it is published only if that commits. */
export async function appendToOutbox<C extends EventContract>(
  tx: RawSqlExecutor,
  contract: C,
  event: EventOf<C>,
): Promise<void> {
  const record = toOutboxRecord(contract, event);
  await tx.$executeRaw`
    INSERT INTO outbox_events (event_id, event_type, topic, message_key, payload)
    VALUES (${record.eventId}::uuid, ${record.eventType}, ${record.topic}, ${record.messageKey},
            ${JSON.stringify(record.payload)}::jsonb)`;
}
