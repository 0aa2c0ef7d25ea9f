import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { claimEvent, LOGGER, retryTransient } from '@shop/service-kit';
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
   * Queues the email an order event calls for, together with the event's claim: a redelivered
   * event finds its claim and queues nothing, so the customer gets exactly one email per event.
   */
  async record(event: OrderNotificationEvent): Promise<void> {
    const email = renderEmail(event);
    await this.prisma.$transaction(async (tx) => {
      if (!(await claimEvent(tx, event))) return;
      await tx.notification.create({
        data: {
          id: randomUUID(),
          eventId: event.eventId,
          orderId: event.payload.orderId,
          type: email.type,
          recipient: event.payload.customerEmail,
          subject: email.subject,
          body: email.text,
        },
      });
    });
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
