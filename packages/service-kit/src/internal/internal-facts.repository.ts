import type { Pool } from 'pg';

export interface HandledEventFact {
  eventId: string;
  eventType: string;
  topic: string | null;
  partition: number | null;
  offset: string | null;
  handledBy: string | null;
  /** When the consumer had it in hand; null for events recorded before this was kept. */
  fetchedAt: string | null;
  handledAt: string;
}

export interface OutboxFact {
  eventId: string;
  eventType: string;
  topic: string;
  createdAt: string;
  sentAt: string | null;
  sentBy: string | null;
}

export interface OutboxFigures {
  backlog: number;
  oldestUnsentAgeMs: number | null;
}

/** A row as pg returns it: the named timestamp fields are Dates (or null where the fact has null). */
type Timestamped<T, K extends keyof T> = Omit<T, K> & {
  [P in K]: null extends T[P] ? Date | null : Date;
};

/** The platform's own tables (outbox, processed events) as the internal endpoints read them. */
export class InternalFactsRepository {
  constructor(private readonly pool: Pool) {}

  async handledEvents(orderId: string): Promise<HandledEventFact[]> {
    const { rows } = await this.pool.query<
      Timestamped<HandledEventFact, 'fetchedAt' | 'handledAt'>
    >(
      `SELECT event_id::text AS "eventId", event_type AS "eventType", topic,
              kafka_partition AS partition, kafka_offset::text AS offset, handled_by AS "handledBy",
              fetched_at AS "fetchedAt", processed_at AS "handledAt"
         FROM processed_events WHERE correlation_id = $1::uuid ORDER BY processed_at, event_id`,
      [orderId],
    );
    return rows.map((row) => ({
      ...row,
      fetchedAt: row.fetchedAt?.toISOString() ?? null,
      handledAt: row.handledAt.toISOString(),
    }));
  }

  async outboxRows(orderId: string): Promise<OutboxFact[]> {
    const { rows } = await this.pool.query<Timestamped<OutboxFact, 'createdAt' | 'sentAt'>>(
      `SELECT event_id::text AS "eventId", event_type AS "eventType", topic,
              created_at AS "createdAt", sent_at AS "sentAt", sent_by AS "sentBy"
         FROM outbox_events WHERE message_key = $1 ORDER BY id`,
      [orderId],
    );
    return rows.map((row) => ({
      ...row,
      createdAt: row.createdAt.toISOString(),
      sentAt: row.sentAt?.toISOString() ?? null,
    }));
  }

  async outboxFigures(): Promise<OutboxFigures> {
    const { rows } = await this.pool.query<{ backlog: string; oldest: string | null }>(
      `SELECT count(*) AS backlog,
              (extract(epoch FROM now() - min(created_at)) * 1000)::bigint AS oldest
         FROM outbox_events WHERE sent_at IS NULL`,
    );
    const row = rows[0];
    return {
      backlog: Number(row?.backlog ?? 0),
      oldestUnsentAgeMs: row?.oldest == null ? null : Math.max(0, Number(row.oldest)),
    };
  }
}
