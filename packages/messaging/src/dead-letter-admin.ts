import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import {
  DEAD_LETTER_SUFFIX,
  DeadLetterHeader,
  deadLetterTopic,
  headerText,
  ownHeaders,
} from './dead-letter';

export interface DeadLetter {
  /** `<dead-letter topic>:<partition>:<offset>`, what `replay` takes. */
  id: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  reason: string;
  error: string;
  attempts: number;
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  consumerGroup: string;
  failedAt: Date;
  /** Read from the value when it is JSON with these fields; absent for unreadable messages. */
  eventType: string | undefined;
  eventId: string | undefined;
}

/** The dead-letter topics that exist, or those of the given source topics. */
export async function deadLetterTopics(
  kafka: Kafka,
  sourceTopics?: readonly string[],
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    const wanted = sourceTopics?.map(deadLetterTopic);
    return existing
      .filter((topic) => topic.endsWith(DEAD_LETTER_SUFFIX))
      .filter((topic) => !wanted || wanted.includes(topic))
      .sort();
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads every dead letter of the given dead-letter topics, oldest first per partition. A
 * throwaway consumer group reads up to each partition's end and is deleted afterwards, so
 * listing moves no offset that anything else relies on.
 */
export async function readDeadLetters(
  kafka: Kafka,
  topics: readonly string[],
  timeoutMs = 30_000,
): Promise<DeadLetter[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `dead-letter-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  try {
    const remaining = new Map<string, bigint>();
    for (const topic of topics) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(high) > BigInt(low)) remaining.set(`${topic}:${partition}`, BigInt(high) - 1n);
      }
    }
    if (remaining.size === 0) return [];

    const letters: DeadLetter[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading dead letters took over ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ topic, partition, message }) => {
            const last = remaining.get(`${topic}:${partition}`);
            if (last === undefined || BigInt(message.offset) > last) return;
            letters.push(parseDeadLetter(`${topic}:${partition}:${message.offset}`, message));
            if (BigInt(message.offset) === last) remaining.delete(`${topic}:${partition}`);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return letters;
  } finally {
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * Publishes dead letters back onto their source topics, exactly as first published (key, value,
 * own headers) plus a header naming the dead letter. Safe to repeat: consumers are idempotent.
 */
export async function replayDeadLetters(
  kafka: Kafka,
  letters: readonly DeadLetter[],
): Promise<number> {
  if (letters.length === 0) return 0;
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    for (const letter of letters) {
      await producer.send({
        topic: letter.originalTopic,
        acks: -1,
        messages: [
          {
            key: letter.key,
            value: letter.value,
            headers: { ...ownHeaders(letter.headers), [DeadLetterHeader.replayedFrom]: letter.id },
          },
        ],
      });
    }
    return letters.length;
  } finally {
    await producer.disconnect();
  }
}

/** A dead-letter record as the list command and the flow console read it. */
export function parseDeadLetter(
  id: string,
  message: { key: Buffer | null; value: Buffer | null; headers?: IHeaders },
): DeadLetter {
  const header = (name: string): string => headerText(message.headers, name) ?? '';
  const event = peekEvent(message.value);
  return {
    id,
    key: message.key,
    value: message.value,
    headers: message.headers ?? {},
    reason: header(DeadLetterHeader.reason),
    error: header(DeadLetterHeader.error),
    attempts: Number(header(DeadLetterHeader.attempts)),
    originalTopic: header(DeadLetterHeader.originalTopic),
    originalPartition: Number(header(DeadLetterHeader.originalPartition)),
    originalOffset: header(DeadLetterHeader.originalOffset),
    consumerGroup: header(DeadLetterHeader.consumerGroup),
    failedAt: new Date(header(DeadLetterHeader.failedAt)),
    eventType: event.type,
    eventId: event.eventId,
  };
}

function peekEvent(value: Buffer | null): { type?: string; eventId?: string } {
  try {
    const parsed: unknown = JSON.parse(value?.toString() ?? '');
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { type, eventId } = parsed as Record<string, unknown>;
    return {
      ...(typeof type === 'string' ? { type } : {}),
      ...(typeof eventId === 'string' ? { eventId } : {}),
    };
  } catch {
    return {};
  }
}
