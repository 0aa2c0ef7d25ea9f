import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { LOGGER, retryTransient } from '@shop/service-kit';
import type { Notification } from '../generated/prisma/client';
import type { NotificationView } from './dto/notification.response';
import { renderEmail, type OrderNotificationEvent } from './email-templates';
import { NotificationsRepository } from './notifications.repository';

/** What the customer is told about their order; the mail dispatcher sends what is recorded here. */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly notifications: NotificationsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Queues the emails a batch of order events calls for, once per event: a redelivered event
   * finds its claim and queues nothing, so the customer gets exactly one email per event.
   */
  async recordAll(events: readonly OrderNotificationEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.notifications.queueAll(
      events.map((event) => ({ id: randomUUID(), event, email: renderEmail(event) })),
    );
  }

  /** The emails about one order, oldest first. */
  async list(orderId: string): Promise<NotificationView[]> {
    // Rides out a database restart: transient failures are retried for up to ~10 s.
    const notifications = await retryTransient(() => this.notifications.findByOrder(orderId), {
      onRetry: (error, attempt, delayMs) =>
        this.logger[attempt === 1 ? 'warn' : 'debug'](
          { err: error, attempt, delayMs },
          'database unavailable; retrying',
        ),
    });
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
