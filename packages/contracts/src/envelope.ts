import { z } from 'zod';
import type { TopicName } from './topics';

/** Fields every event carries, whatever its type. */
export const envelopeSchema = z.object({
  eventId: z.uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  /** Ties every event of one business flow (one order) together; the order id for this system. */
  correlationId: z.string().min(1),
  /** The event that caused this one; null for events caused by a user request. */
  causationId: z.uuid().nullable(),
});

export type EnvelopeHeader = z.infer<typeof envelopeSchema>;

export interface EventEnvelope<
  TType extends string,
  TVersion extends number,
  TPayload,
> extends EnvelopeHeader {
  type: TType;
  version: TVersion;
  payload: TPayload;
}

export interface EventContract<
  TType extends string = string,
  TVersion extends number = number,
  TPayload extends z.ZodType = z.ZodType,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly topic: TopicName;
  readonly payload: TPayload;
  /** The full message schema: envelope plus this event's payload. */
  readonly schema: z.ZodType<EventEnvelope<TType, TVersion, z.output<TPayload>>>;
  /** The Kafka message key: keeps every event about one aggregate in one partition, in order. */
  key(payload: z.output<TPayload>): string;
}

export type PayloadOf<C extends EventContract> = z.output<C['payload']>;
export type EventOf<C extends EventContract> = EventEnvelope<C['type'], C['version'], PayloadOf<C>>;

export function defineEvent<
  TType extends string,
  TVersion extends number,
  TPayload extends z.ZodType,
>(definition: {
  type: TType;
  version: TVersion;
  topic: TopicName;
  payload: TPayload;
  key: (payload: z.output<TPayload>) => string;
}): EventContract<TType, TVersion, TPayload> {
  const schema = envelopeSchema.extend({
    type: z.literal(definition.type),
    version: z.literal(definition.version),
    payload: definition.payload,
  }) as unknown as z.ZodType<EventEnvelope<TType, TVersion, z.output<TPayload>>>;
  return { ...definition, schema };
}
