import { randomUUID } from 'node:crypto';
import { createEvent, OrderConfirmed } from '@shop/contracts';
import { authHeader, freePort, startSmtpCatcher, waitFor, type SmtpCatcher } from '@shop/devstack';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import type { NotificationConfig } from '../src/config/notification-config';
import type { NotificationView } from '../src/notifications/dto/notification.response';
import { FIRST_RETRY_DELAY_MS } from '../src/notifications/delivery-policy';
import { notificationService } from '../src/service';

describe('mail delivery while the mail server is down', () => {
  let smtpPort: number;
  let catcher: SmtpCatcher | undefined;
  let service: ServiceUnderTest<NotificationConfig>;

  beforeAll(async () => {
    // Nothing listens here until the test starts the catcher: every send is refused.
    smtpPort = await freePort();
    service = await startServiceUnderTest(notificationService, {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      LOG_LEVEL: 'error',
    });
  });

  afterAll(async () => {
    await service?.stop();
    await catcher?.stop();
  });

  it('keeps the email pending after a refused send and delivers it once the server is back', async () => {
    const orderId = randomUUID();
    const customerEmail = `retry-${randomUUID()}@example.com`;
    const event = createEvent(
      OrderConfirmed,
      { orderId, customerEmail, items: [{ sku: 'BOOK-42', quantity: 1 }] },
      { correlationId: orderId, causationId: null },
    );
    await service.producer.send(OrderConfirmed.topic, orderId, event);

    const [failed] = await waitFor(
      async () => {
        const response = await fetch(`${service.url}/notifications?orderId=${orderId}`, {
          headers: await authHeader('admin'),
        });
        const notifications = (await response.json()) as NotificationView[];
        return notifications[0]?.attempts === 1 && notifications;
      },
      { timeoutMs: 30_000, description: 'a first, refused attempt to be recorded' },
    );
    expect(failed).toMatchObject({ status: 'PENDING', sentAt: null });

    catcher = await startSmtpCatcher({ port: smtpPort });
    const [email] = await catcher.waitForMessages(
      (message) => message.to.includes(customerEmail),
      1,
      FIRST_RETRY_DELAY_MS + 15_000,
    );
    expect(email?.messageId).toBe(`<${event.eventId}@notification.shop>`);
    const [sent] = await waitFor(
      async () => {
        const response = await fetch(`${service.url}/notifications?orderId=${orderId}`, {
          headers: await authHeader('admin'),
        });
        const notifications = (await response.json()) as NotificationView[];
        return notifications[0]?.status === 'SENT' && notifications;
      },
      { timeoutMs: 10_000, description: 'the email to be marked SENT' },
    );
    expect(sent).toMatchObject({ status: 'SENT', attempts: 2 });
  });
});
