import { EventHeaders, parseDeadLetter, type WatchedRecord } from '@shop/messaging';
import { statusAnnouncedBy } from '../topology';
import type { RecentOrder } from '../views/view-models';
import type { ObservedDeadLetter, ObservedEvent } from './observed';

interface OrderRecords {
  events: ObservedEvent[];
  deadLetters: ObservedDeadLetter[];
}

/**
 * Every record the console's group has read, by order (correlation id), for the most recent
 * orders only: memory stays bounded however long the console runs.
 */
export class RecordLog {
  private readonly orders = new Map<string, OrderRecords>();
  private readonly deadLetterCounts = new Map<
    string,
    { count: number; latest: ObservedDeadLetter }
  >();
  private readonly seenEventIds = new Set<string>();

  constructor(private readonly retainedOrders: number) {}

  add(records: readonly WatchedRecord[], seenAt: number = Date.now()): void {
    for (const record of records) {
      if (record.topic.endsWith('.dlq')) this.addDeadLetter(record, seenAt);
      else this.addEvent(record, seenAt);
    }
  }

  eventsOf(orderId: string): ObservedEvent[] {
    return this.orders.get(orderId)?.events ?? [];
  }

  deadLettersOf(orderId: string): ObservedDeadLetter[] {
    return this.orders.get(orderId)?.deadLetters ?? [];
  }

  deadLetterTotals(topic: string): { count: number; latest: ObservedDeadLetter } | undefined {
    return this.deadLetterCounts.get(topic);
  }

  /** Newest first, by the time its OrderPlaced was published. */
  recentOrders(limit: number): RecentOrder[] {
    const orders: RecentOrder[] = [];
    for (const [orderId, { events }] of this.orders) {
      const placed = events.find((event) => event.eventType === 'OrderPlaced');
      if (!placed) continue;
      const latest = events
        .filter((event) => statusAnnouncedBy(event.eventType))
        .reduce((a, b) => (a.kafkaTimestamp <= b.kafkaTimestamp ? b : a));
      orders.push({
        orderId,
        customerEmail: placed.customerEmail,
        status: statusAnnouncedBy(latest.eventType) ?? 'PENDING',
        placedAt: new Date(placed.kafkaTimestamp).toISOString(),
      });
    }
    return orders.sort((a, b) => b.placedAt.localeCompare(a.placedAt)).slice(0, limit);
  }

  private addEvent(record: WatchedRecord, seenAt: number): void {
    const envelope = peekEnvelope(record);
    if (!envelope) return;
    // The same event read again (a redelivery to this group, a replay) keeps its first sighting.
    const sighting = `${envelope.eventId}@${record.topic}:${record.partition}:${record.offset}`;
    if (this.seenEventIds.has(sighting)) return;
    this.seenEventIds.add(sighting);
    this.recordsOf(envelope.correlationId).events.push({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      kafkaTimestamp: record.timestamp,
      seenAt,
      ...envelope,
      traceId: traceIdOf(record.headers.traceparent),
    });
  }

  private addDeadLetter(record: WatchedRecord, seenAt: number): void {
    const letter = parseDeadLetter(`${record.topic}:${record.partition}:${record.offset}`, {
      key: record.key === null ? null : Buffer.from(record.key),
      value: record.value,
      headers: record.headers,
    });
    const envelope = peekEnvelope(record);
    const observed: ObservedDeadLetter = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      seenAt,
      eventId: letter.eventId ?? null,
      eventType: letter.eventType ?? null,
      correlationId: envelope?.correlationId ?? record.key,
      reason: letter.reason,
      error: letter.error,
      group: letter.consumerGroup,
      attempts: letter.attempts,
      originalTopic: letter.originalTopic,
      originalPartition: letter.originalPartition,
      originalOffset: letter.originalOffset,
      failedAt: Number.isNaN(letter.failedAt.getTime())
        ? record.timestamp
        : letter.failedAt.getTime(),
    };
    const totals = this.deadLetterCounts.get(record.topic);
    this.deadLetterCounts.set(record.topic, { count: (totals?.count ?? 0) + 1, latest: observed });
    if (observed.correlationId) this.recordsOf(observed.correlationId).deadLetters.push(observed);
  }

  private recordsOf(orderId: string): OrderRecords {
    let records = this.orders.get(orderId);
    if (!records) {
      records = { events: [], deadLetters: [] };
      this.orders.set(orderId, records);
      this.forgetOldest();
    }
    return records;
  }

  private forgetOldest(): void {
    while (this.orders.size > this.retainedOrders) {
      const [oldest, records] = this.orders.entries().next().value as [string, OrderRecords];
      this.orders.delete(oldest);
      for (const event of records.events) {
        this.seenEventIds.delete(
          `${event.eventId}@${event.topic}:${event.partition}:${event.offset}`,
        );
      }
    }
  }
}

/** Enough of the envelope to place a record; the console is not a consumer and validates no contract. */
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The trace id of a W3C `traceparent` header (version-traceid-spanid-flags). */
function traceIdOf(traceparent: string | undefined): string | null {
  return TRACEPARENT.exec(traceparent ?? '')?.[1] ?? null;
}

function peekEnvelope(record: WatchedRecord): {
  eventId: string;
  eventType: string;
  correlationId: string;
  customerEmail: string | null;
} | null {
  try {
    const parsed: unknown = JSON.parse(record.value?.toString() ?? '');
    if (typeof parsed !== 'object' || parsed === null) return null;
    const body = parsed as Record<string, unknown>;
    const eventId = record.headers[EventHeaders.eventId] ?? body.eventId;
    const eventType = record.headers[EventHeaders.eventType] ?? body.type;
    const correlationId = record.headers[EventHeaders.correlationId] ?? body.correlationId;
    if (typeof eventId !== 'string' || typeof eventType !== 'string') return null;
    if (typeof correlationId !== 'string') return null;
    const payload = body.payload as Record<string, unknown> | undefined;
    const email = payload?.customerEmail;
    return {
      eventId,
      eventType,
      correlationId,
      customerEmail: typeof email === 'string' ? email : null,
    };
  } catch {
    return null;
  }
}
