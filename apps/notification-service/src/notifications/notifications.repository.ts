import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { deliveryOf, traceCarrierFor, type TraceCarrier } from '@shop/messaging';
import { fetchedAt, PG_POOL } from '@shop/service-kit';
import type { Notification } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { OrderNotificationEvent, RenderedEmail } from './email-templates';

/** An email to queue, for the event that calls for it. */
export interface QueuedEmail {
  id: string;
  event: OrderNotificationEvent;
  email: RenderedEmail;
}

/** A PENDING email claimed for one sending attempt. */
export interface ClaimedEmail {
  id: string;
  event_id: string;
  type: string;
  recipient: string;
  subject: string;
  body: string;
  attempts: number;
  trace_context: TraceCarrier | null;
}

/**
 * How notifications are stored. Recording and reading go through Prisma; the dispatcher's
 * bookkeeping goes through the platform pool, as the outbox relay's does, so sending mail never
 * takes the connections the consumer and the API use.
 */
@Injectable()
export class NotificationsRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  /**
   * Queues the emails, each with its event's claim, in one statement (atomic by itself): an
   * email whose event was claimed before is left out. The insert trigger wakes the mail dispatcher.
   */
  async queueAll(emails: readonly QueuedEmail[]): Promise<void> {
    const delivered = emails.map((row) => deliveryOf(row.event));
    await this.prisma.$executeRaw`
      WITH batch AS (
        SELECT *
          FROM unnest(${emails.map((row) => row.id)}::uuid[],
                      ${emails.map((row) => row.event.eventId)}::uuid[],
                      ${emails.map((row) => row.event.type)}::text[],
                      ${emails.map((row) => row.event.payload.orderId)}::uuid[],
                      ${emails.map((row) => row.email.type)}::text[],
                      ${emails.map((row) => row.event.payload.customerEmail)}::text[],
                      ${emails.map((row) => row.email.subject)}::text[],
                      ${emails.map((row) => row.email.text)}::text[],
                      ${delivered.map((where) => where?.topic ?? null)}::text[],
                      ${delivered.map((where) => where?.partition ?? null)}::int[],
                      ${delivered.map((where) => where?.offset ?? null)}::bigint[],
                      ${delivered.map((where) => where?.replica ?? null)}::text[],
                      ${delivered.map((where) => fetchedAt(where))}::timestamptz[],
                      ${emails.map((row) => JSON.stringify(traceCarrierFor(row.event.eventId)))}::jsonb[])
               AS b(id, event_id, event_type, order_id, type, recipient, subject, body,
                    topic, kafka_partition, kafka_offset, handled_by, fetched_at, trace_context)
      ),
      claimed AS (
        INSERT INTO processed_events
               (event_id, event_type, correlation_id, topic, kafka_partition, kafka_offset, handled_by,
                fetched_at)
        SELECT event_id, event_type, order_id, topic, kafka_partition, kafka_offset, handled_by,
               fetched_at
          FROM batch
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id
      )
      INSERT INTO notifications (id, event_id, order_id, type, recipient, subject, body,
                                 trace_context)
      SELECT id, event_id, order_id, type::"NotificationType", recipient, subject, body,
             NULLIF(trace_context, 'null')
        FROM batch JOIN claimed USING (event_id)`;
  }

  /** Oldest first. */
  findByOrder(orderId: string): Promise<Notification[]> {
    return this.prisma.notification.findMany({
      where: { orderId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
  }

  /**
   * Claims up to `limit` due emails with FOR UPDATE SKIP LOCKED, counting the attempt and pushing
   * the next one a lease into the future, so replicas never send the same email concurrently.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedEmail[]> {
    const { rows } = await this.pool.query<ClaimedEmail>(
      `UPDATE notifications
          SET attempts = attempts + 1,
              next_attempt_at = now() + ($2::bigint * interval '1 millisecond')
        WHERE id IN (
              SELECT id FROM notifications
               WHERE status = 'PENDING' AND next_attempt_at <= now()
               ORDER BY created_at
               LIMIT $1
                 FOR UPDATE SKIP LOCKED)
    RETURNING id, event_id, type::text, recipient, subject, body, attempts, trace_context`,
      [limit, leaseMs],
    );
    return rows;
  }

  async markSent(id: string, messageId: string): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET status = 'SENT', sent_at = now(), message_id = $2, last_error = NULL
        WHERE id = $1 AND status = 'PENDING'`,
      [id, messageId],
    );
  }

  async markFailed(id: string, lastError: string): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET status = 'FAILED', last_error = $2 WHERE id = $1`,
      [id, lastError],
    );
  }

  async scheduleRetry(id: string, lastError: string, nextAttemptAt: Date): Promise<void> {
    await this.pool.query(
      `UPDATE notifications SET last_error = $2, next_attempt_at = $3 WHERE id = $1`,
      [id, lastError, nextAttemptAt],
    );
  }
}
