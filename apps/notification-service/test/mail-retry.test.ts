import { randomUUID } from 'node:crypto';
import { ALL_TOPICS, createEvent, OrderConfirmed } from '@shop/contracts';
import {
  createTestDatabase,
  freePort,
  resetTopics,
  startSmtpCatcher,
  TestProducer,
  testKafkaBrokers,
  waitFor,
  type SmtpCatcher,
  type TestDatabase,
} from '@shop/devstack';
import { runService, type RunningService } from '@shop/service-kit';
import type { NotificationConfig } from '../src/config/notification-config';
import type { NotificationView } from '../src/notifications/dto/notification.response';
import { FIRST_RETRY_DELAY_MS } from '../src/notifications/delivery-policy';
import { notificationService } from '../src/service';

describe('mail delivery while the mail server is down', () => {
  let db: TestDatabase;
  let smtpPort: number;
  let catcher: SmtpCatcher | undefined;
  let service: RunningService<NotificationConfig>;

  beforeAll(async () => {
    const brokers = testKafkaBrokers();
    await resetTopics(brokers, ALL_TOPICS);
    db = await createTestDatabase('notification_retry_test');
    // Nothing listens here until the test starts the catcher: every send is refused.
    smtpPort = await freePort();
    service = await runService(notificationService, {
      PORT: String(await freePort()),
      DATABASE_URL: db.urlFor('notification-service'),
      KAFKA_BROKERS: brokers,
      KAFKA_GROUP_ID: `notification-retry-test-${randomUUID()}`,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      LOG_LEVEL: 'error',
    });
    await waitFor(async () => (await fetch(`${service.url}/health`)).status === 200, {
      timeoutMs: 60_000,
      description: 'GET /health to answer 200 (database up, consumer group joined)',
    });
  });

  afterAll(async () => {
    await service?.app.close();
    await catcher?.stop();
    await db?.drop();
  });

  it('keeps the email pending after a refused send and delivers it once the server is back', async () => {
    const orderId = randomUUID();
    const customerEmail = `retry-${randomUUID()}@example.com`;
    const event = createEvent(
      OrderConfirmed,
      { orderId, customerEmail, items: [{ sku: 'BOOK-42', quantity: 1 }] },
      { correlationId: orderId, causationId: null },
    );
    const producer = await TestProducer.start(testKafkaBrokers());
    try {
      await producer.send(OrderConfirmed.topic, orderId, event);
    } finally {
      await producer.stop();
    }

    const [failed] = await waitFor(
      async () => {
        const response = await fetch(`${service.url}/notifications?orderId=${orderId}`);
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
        const response = await fetch(`${service.url}/notifications?orderId=${orderId}`);
        const notifications = (await response.json()) as NotificationView[];
        return notifications[0]?.status === 'SENT' && notifications;
      },
      { timeoutMs: 10_000, description: 'the email to be marked SENT' },
    );
    expect(sent).toMatchObject({ status: 'SENT', attempts: 2 });
  });
});
