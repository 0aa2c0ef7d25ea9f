import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createEvent, OrderCancelled, OrderConfirmed, OrderRejected } from '@shop/contracts';
import { startSmtpCatcher, waitFor, type CaughtMessage, type SmtpCatcher } from '@shop/devstack';
import { PG_POOL } from '@shop/service-kit';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import type { NotificationConfig } from '../src/config/notification-config';
import type { Notification } from '../src/generated/prisma/client';
import type { OrderNotificationEvent } from '../src/notifications/email-templates';
import { NotificationsService } from '../src/notifications/notifications.service';
import { PrismaService } from '../src/prisma/prisma.service';
import { notificationService } from '../src/service';

const EMAIL_TIMEOUT_MS = 30_000;
const items = [{ sku: 'BOOK-42', quantity: 2 }];

describe('recording a batch of order events against real Postgres and SMTP', () => {
  let catcher: SmtpCatcher;
  let service: ServiceUnderTest<NotificationConfig>;
  let notifications: NotificationsService;
  let prisma: PrismaService;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    service = await startServiceUnderTest(notificationService, { SMTP_URL: catcher.url });
    notifications = service.running.app.get(NotificationsService);
    prisma = service.running.app.get(PrismaService);
  });

  afterAll(async () => {
    await service?.stop();
    await catcher?.stop();
  });

  function order(): { orderId: string; customerEmail: string } {
    return { orderId: randomUUID(), customerEmail: `batch-${randomUUID()}@example.com` };
  }

  function confirmed(): OrderNotificationEvent {
    const { orderId, customerEmail } = order();
    return createEvent(
      OrderConfirmed,
      { orderId, customerEmail, items },
      { correlationId: orderId, causationId: null },
    );
  }

  function rejected(): OrderNotificationEvent {
    const { orderId, customerEmail } = order();
    return createEvent(
      OrderRejected,
      { orderId, customerEmail, reason: { code: 'UNKNOWN_SKU', sku: 'NOPE-1' } },
      { correlationId: orderId, causationId: null },
    );
  }

  function cancelled(): OrderNotificationEvent {
    const { orderId, customerEmail } = order();
    return createEvent(
      OrderCancelled,
      { orderId, customerEmail, items, previousStatus: 'CONFIRMED' },
      { correlationId: orderId, causationId: null },
    );
  }

  async function notificationsFor(events: OrderNotificationEvent[]): Promise<Notification[]> {
    return prisma.notification.findMany({
      where: { eventId: { in: events.map((event) => event.eventId) } },
    });
  }

  function emailsTo(event: OrderNotificationEvent): (message: CaughtMessage) => boolean {
    return (message) => message.to.includes(event.payload.customerEmail);
  }

  it('queues one email per event of a batch, with the type, recipient and subject of its event', async () => {
    const batch = [confirmed(), confirmed(), rejected(), cancelled()];

    await notifications.recordAll(batch);

    const recorded = await notificationsFor(batch);
    expect(recorded).toHaveLength(batch.length);
    const expected = [
      ['ORDER_CONFIRMED', 'is confirmed'],
      ['ORDER_CONFIRMED', 'is confirmed'],
      ['ORDER_REJECTED', 'could not be accepted'],
      ['ORDER_CANCELLED', 'is cancelled'],
    ] as const;
    batch.forEach((event, index) => {
      const [type, outcome] = expected[index] ?? [];
      expect(recorded.find((n) => n.eventId === event.eventId)).toMatchObject({
        orderId: event.payload.orderId,
        type,
        recipient: event.payload.customerEmail,
        subject: `Your order ${event.payload.orderId.slice(0, 8)} ${outcome}`,
      });
    });
    expect(new Set(recorded.map((n) => n.id)).size).toBe(batch.length);
  });

  it('queues nothing again for an event of a batch that was recorded before', async () => {
    const redelivered = confirmed();
    await notifications.recordAll([redelivered]);
    const [before] = await notificationsFor([redelivered]);
    const freshConfirmed = confirmed();
    const freshCancelled = cancelled();

    await notifications.recordAll([freshConfirmed, redelivered, freshCancelled]);

    // Only what recording writes: the dispatcher may be sending the email meanwhile.
    const after = await notificationsFor([redelivered]);
    expect(after.map(({ id, createdAt }) => ({ id, createdAt }))).toEqual([
      { id: before?.id, createdAt: before?.createdAt },
    ]);
    expect(await notificationsFor([freshConfirmed, freshCancelled])).toHaveLength(2);
  });

  it('sends the email of every event of redelivered batches exactly once', async () => {
    const redeliveredAlone = rejected();
    const batch = [confirmed(), redeliveredAlone, cancelled()];

    await notifications.recordAll(batch);
    await notifications.recordAll(batch);
    await notifications.recordAll([redeliveredAlone]);

    await waitFor(async () => (await notificationsFor(batch)).every((n) => n.status === 'SENT'), {
      timeoutMs: EMAIL_TIMEOUT_MS,
      description: 'every email of the batch to be SENT',
    });
    for (const event of batch) {
      const sent = catcher.messages().filter(emailsTo(event));
      expect(sent).toHaveLength(1);
      expect(sent[0]?.messageId).toBe(`<${event.eventId}@notification.shop>`);
    }
    expect((await notificationsFor(batch)).map((n) => n.attempts)).toEqual([1, 1, 1]);
  });

  it('records nothing of a batch whose insert fails, so each event can be retried alone', async () => {
    const first = confirmed();
    const repeated = confirmed();

    // Two equal ids, which the transport never sends together, make the insert fail part-way.
    await expect(notifications.recordAll([first, repeated, repeated])).rejects.toThrow();

    expect(await notificationsFor([first, repeated])).toEqual([]);
    expect(
      await prisma.processedEvent.count({
        where: { eventId: { in: [first.eventId, repeated.eventId] } },
      }),
    ).toBe(0);
    await notifications.recordAll([first]);
    expect(await notificationsFor([first])).toHaveLength(1);
  });

  it('wakes the mail dispatcher through NOTIFY when a batch is queued', async () => {
    const listener = await service.running.app.get<Pool>(PG_POOL).connect();
    try {
      const { rows } = await listener.query<{ schema: string }>(
        'SELECT current_schema() AS schema',
      );
      const channel = `mail_${rows[0]?.schema}`;
      const heard: string[] = [];
      listener.on('notification', (notification) => heard.push(notification.channel));
      await listener.query(`LISTEN "${channel}"`);

      await notifications.recordAll([confirmed(), confirmed()]);

      await waitFor(() => heard.includes(channel), {
        timeoutMs: 5_000,
        description: `a notification on ${channel}`,
      });
    } finally {
      await listener.query('UNLISTEN *');
      listener.release();
    }
  });
});
