import { randomUUID } from 'node:crypto';
import {
  createEvent,
  OrderCancelled,
  OrderConfirmed,
  OrderRejected,
  type EventContract,
  type EventOf,
} from '@shop/contracts';
import {
  authHeader,
  type CaughtMessage,
  corpusFor,
  requestJson,
  testCorpusCredentials,
  sendApiRequest,
  type SmtpCatcher,
  startSmtpCatcher,
  type TestProducer,
  waitFor,
  wronglyAnswered,
} from '@shop/devstack';
import { startServiceUnderTest, type ServiceUnderTest } from '@shop/testing';
import type { NotificationConfig } from '../src/config/notification-config';
import type { NotificationView } from '../src/notifications/dto/notification.response';
import { notificationService } from '../src/service';

const EMAIL_TIMEOUT_MS = 30_000;
const items = [
  { sku: 'BOOK-42', quantity: 2 },
  { sku: 'PEN-7', quantity: 1 },
];

describe('notification service against real Kafka, Postgres and SMTP', () => {
  let catcher: SmtpCatcher;
  let service: ServiceUnderTest<NotificationConfig>;
  let producer: TestProducer;
  let admin: { authorization: string };

  beforeAll(async () => {
    admin = await authHeader('admin');
    catcher = await startSmtpCatcher();
    service = await startServiceUnderTest(notificationService, { SMTP_URL: catcher.url });
    producer = service.producer;
  });

  afterAll(async () => {
    await service?.stop();
    await catcher?.stop();
  });

  /** Sends an event as the order service's outbox relay would (keyed by its order unless `key` says otherwise). */
  async function publish<C extends EventContract>(
    contract: C,
    event: EventOf<C>,
    key: string = contract.key(event.payload),
  ): Promise<void> {
    await producer.send(contract.topic, key, event);
  }

  function confirmed(orderId: string, customerEmail: string): EventOf<typeof OrderConfirmed> {
    return createEvent(
      OrderConfirmed,
      { orderId, customerEmail, items },
      { correlationId: orderId, causationId: null },
    );
  }

  function emailsTo(address: string): (message: CaughtMessage) => boolean {
    return (message) => message.to.includes(address);
  }

  async function notificationsOf(orderId: string): Promise<NotificationView[]> {
    const response = await fetch(`${service.url}/notifications?orderId=${orderId}`, {
      headers: admin,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as NotificationView[];
  }

  async function waitUntilSent(orderId: string): Promise<NotificationView[]> {
    return waitFor(
      async () => {
        const notifications = await notificationsOf(orderId);
        return (
          notifications.length > 0 &&
          notifications.every((n) => n.status === 'SENT') &&
          notifications
        );
      },
      {
        timeoutMs: EMAIL_TIMEOUT_MS,
        description: `the notifications of order ${orderId} to be SENT`,
      },
    );
  }

  const first = { orderId: randomUUID(), customerEmail: `first-${randomUUID()}@example.com` };
  let firstEvent: EventOf<typeof OrderConfirmed>;

  it('emails the customer once when an order is confirmed and shows the email as sent', async () => {
    firstEvent = confirmed(first.orderId, first.customerEmail);
    await publish(OrderConfirmed, firstEvent);

    const [email] = await catcher.waitForMessages(
      emailsTo(first.customerEmail),
      1,
      EMAIL_TIMEOUT_MS,
    );
    expect(email?.subject).toBe(`Your order ${first.orderId.slice(0, 8)} is confirmed`);
    expect(email?.text).toContain('BOOK-42 × 2');
    expect(email?.messageId).toBe(`<${firstEvent.eventId}@notification.shop>`);

    const [notification] = await waitUntilSent(first.orderId);
    expect(notification).toMatchObject({
      orderId: first.orderId,
      type: 'ORDER_CONFIRMED',
      recipient: first.customerEmail,
      subject: `Your order ${first.orderId.slice(0, 8)} is confirmed`,
      status: 'SENT',
      attempts: 1,
    });
    expect(Date.parse(notification?.sentAt ?? '')).not.toBeNaN();
  });

  it('does not email again when the same event is delivered three more times', async () => {
    for (let i = 0; i < 3; i += 1) await publish(OrderConfirmed, firstEvent);
    // Keyed like the duplicates, so on their partition: once the marker is handled, so are they.
    const marker = { orderId: randomUUID(), customerEmail: `marker-${randomUUID()}@example.com` };
    await publish(OrderConfirmed, confirmed(marker.orderId, marker.customerEmail), first.orderId);

    await catcher.waitForMessages(emailsTo(marker.customerEmail), 1, EMAIL_TIMEOUT_MS);
    await waitUntilSent(marker.orderId);

    expect(catcher.messages().filter(emailsTo(first.customerEmail))).toHaveLength(1);
    expect(await notificationsOf(first.orderId)).toHaveLength(1);
  });

  it('emails the reason when an order is rejected', async () => {
    const orderId = randomUUID();
    const customerEmail = `rejected-${randomUUID()}@example.com`;
    const reason = {
      code: 'INSUFFICIENT_STOCK',
      sku: 'BOOK-42',
      requested: 5,
      available: 2,
    } as const;
    await publish(
      OrderRejected,
      createEvent(
        OrderRejected,
        { orderId, customerEmail, reason },
        { correlationId: orderId, causationId: null },
      ),
    );

    const [email] = await catcher.waitForMessages(emailsTo(customerEmail), 1, EMAIL_TIMEOUT_MS);
    expect(email?.subject).toBe(`Your order ${orderId.slice(0, 8)} could not be accepted`);
    expect(email?.text).toContain('insufficient stock for SKU BOOK-42: requested 5, available 2');
    expect((await waitUntilSent(orderId)).map((n) => n.type)).toEqual(['ORDER_REJECTED']);
  });

  it('emails the customer when an order is cancelled', async () => {
    const orderId = randomUUID();
    const customerEmail = `cancelled-${randomUUID()}@example.com`;
    await publish(
      OrderCancelled,
      createEvent(
        OrderCancelled,
        { orderId, customerEmail, items, previousStatus: 'CONFIRMED' },
        { correlationId: orderId, causationId: null },
      ),
    );

    const [email] = await catcher.waitForMessages(emailsTo(customerEmail), 1, EMAIL_TIMEOUT_MS);
    expect(email?.subject).toBe(`Your order ${orderId.slice(0, 8)} is cancelled`);
    expect(email?.text).toContain('Any stock reserved for it has been released.');
    expect((await waitUntilSent(orderId)).map((n) => n.type)).toEqual(['ORDER_CANCELLED']);
  });

  it('keeps emailing after a malformed message and an event with a wrong payload', async () => {
    const orderId = randomUUID();
    const customerEmail = `after-poison-${randomUUID()}@example.com`;
    const wrongPayload = {
      ...confirmed(orderId, customerEmail),
      payload: { orderId, items: 'none' },
    };
    // Keyed by the order like the valid event after them: one partition, so they are read first.
    await producer.send(OrderConfirmed.topic, orderId, '{"eventId": not json');
    await producer.send(OrderConfirmed.topic, orderId, wrongPayload);
    await publish(OrderConfirmed, confirmed(orderId, customerEmail));

    const [email] = await catcher.waitForMessages(emailsTo(customerEmail), 1, EMAIL_TIMEOUT_MS);
    expect(email?.subject).toBe(`Your order ${orderId.slice(0, 8)} is confirmed`);
    expect(await waitUntilSent(orderId)).toHaveLength(1);
  });

  it('answers 400 naming orderId when it is missing', async () => {
    const response = await fetch(`${service.url}/notifications`, { headers: admin });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string };
    expect(body.message).toContain('orderId');
  });

  it('answers 400 when orderId is not a UUID', async () => {
    const response = await fetch(`${service.url}/notifications?orderId=42`, { headers: admin });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toBe(
      'invalid query: orderId: must be a UUID',
    );
  });

  it('answers every request of the bad-request corpus with a 4xx JSON naming the field', async () => {
    const { bad, examples } = await corpusFor(
      'notification',
      service.url,
      await testCorpusCredentials(),
    );
    expect(bad.length).toBeGreaterThanOrEqual(10);
    expect(await wronglyAnswered(service.url, bad)).toEqual([]);
    for (const request of examples)
      expect((await sendApiRequest(service.url, request)).status).toBe(200);
  });

  it("shows who an order's emails went to only to an admin", async () => {
    const url = `${service.url}/notifications?orderId=${randomUUID()}`;
    expect((await requestJson('GET', url)).status).toBe(401);
    for (const identity of ['ada', 'shop-operator'] as const) {
      const answer = await requestJson('GET', url, undefined, await authHeader(identity));
      expect(answer.status).toBe(403);
    }
    expect((await requestJson('GET', url, undefined, admin)).status).toBe(200);
  });
});
