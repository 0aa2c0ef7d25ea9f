import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { LOGGER, retryTransient } from '@shop/service-kit';
import type { Notification } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type { NotificationView } from './dto/notification.response';
import { renderEmail, type OrderNotificationEvent } from './email-templates';

/** What the customer is told about their order; the mail dispatcher sends what is recorded here. */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Queues the emails a batch of order events calls for, each with its event's claim, in one
   * statement (atomic by itself): a redelivered event finds its claim and queues nothing, so the
   * customer gets exactly one email per event. The insert trigger wakes the mail dispatcher.
   */
  async recordAll(events: readonly OrderNotificationEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((event) => ({ id: randomUUID(), event, email: renderEmail(event) }));
    await this.prisma.$executeRaw`
      WITH batch AS (
        SELECT *
          FROM unnest(${rows.map((row) => row.id)}::uuid[],
                      ${rows.map((row) => row.event.eventId)}::uuid[],
                      ${rows.map((row) => row.event.type)}::text[],
                      ${rows.map((row) => row.event.payload.orderId)}::uuid[],
                      ${rows.map((row) => row.email.type)}::text[],
                      ${rows.map((row) => row.event.payload.customerEmail)}::text[],
                      ${rows.map((row) => row.email.subject)}::text[],
                      ${rows.map((row) => row.email.text)}::text[])
               AS b(id, event_id, event_type, order_id, type, recipient, subject, body)
      ),
      claimed AS (
        INSERT INTO processed_events (event_id, event_type)
        SELECT event_id, event_type FROM batch
        ON CONFLICT (event_id) DO NOTHING
        RETURNING event_id
      )
      INSERT INTO notifications (id, event_id, order_id, type, recipient, subject, body)
      SELECT id, event_id, order_id, type::"NotificationType", recipient, subject, body
        FROM batch JOIN claimed USING (event_id)`;
  }

  /** The emails about one order, oldest first. */
  async list(orderId: string): Promise<NotificationView[]> {
    // Rides out a database restart: transient failures are retried for up to ~10 s.
    const notifications = await retryTransient(
      () =>
        this.prisma.notification.findMany({
          where: { orderId },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        }),
      {
        onRetry: (error, attempt, delayMs) =>
          this.logger[attempt === 1 ? 'warn' : 'debug'](
            { err: error, attempt, delayMs },
            'database unavailable; retrying',
          ),
      },
    );
    return notifications.map(toView);
  }
}

function toView(notification: Notification): NotificationView {
  return {
    id: notification.id,
    orderId: notification.orderId,
    type: notification.type,
    recipient: notification.recipient,
    subject: notification.subject,
    status: notification.status,
    attempts: notification.attempts,
    sentAt: notification.sentAt?.toISOString() ?? null,
    createdAt: notification.createdAt.toISOString(),
  };
}
