import type { IHeaders, KafkaMessage } from 'kafkajs';

export { DEAD_LETTER_RETENTION_MS, DEAD_LETTER_SUFFIX, deadLetterTopic } from '@shop/contracts';

/** Headers a dead letter carries, saying why it is there and where it came from. */
export const DeadLetterHeader = {
  reason: 'dlq-reason',
  error: 'dlq-error',
  attempts: 'dlq-attempts',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
  /** Set on a message put back onto its source topic by a replay: which dead letter it was. */
  replayedFrom: 'dlq-replayed-from',
} as const;

/** Why a message was given up on: it can never be read, or its handler kept failing. */
export type DeadLetterReason = 'invalid-event' | 'handler-failed';

export interface DeadLetterCause {
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  topic: string;
  partition: number;
  consumerGroup: string;
  failedAt: Date;
}

const MAX_ERROR_LENGTH = 1_000;

/**
 * The dead letter of a message: its key, value and own headers untouched (so a replay publishes
 * exactly what was first published), plus the headers that say why.
 */
export function toDeadLetter(
  message: Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>,
  cause: DeadLetterCause,
): { key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...ownHeaders(message.headers),
      [DeadLetterHeader.reason]: cause.reason,
      [DeadLetterHeader.error]: cause.error.slice(0, MAX_ERROR_LENGTH),
      [DeadLetterHeader.attempts]: String(cause.attempts),
      [DeadLetterHeader.originalTopic]: cause.topic,
      [DeadLetterHeader.originalPartition]: String(cause.partition),
      [DeadLetterHeader.originalOffset]: message.offset,
      [DeadLetterHeader.consumerGroup]: cause.consumerGroup,
      [DeadLetterHeader.failedAt]: cause.failedAt.toISOString(),
    },
  };
}

/** The message's headers without earlier dead-letter bookkeeping (a replayed message can fail again). */
export function ownHeaders(headers: IHeaders | undefined): IHeaders {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !name.startsWith('dlq-')),
  );
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
