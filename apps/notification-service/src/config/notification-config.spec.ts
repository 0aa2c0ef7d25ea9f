import { loadConfig } from '@shop/service-kit';
import { notificationConfigSchema } from './notification-config';

const valid = {
  DATABASE_URL: 'postgres://notification_service:secret@localhost:5432/shop',
  KAFKA_BROKERS: 'localhost:9092',
  KAFKA_SASL_PASSWORD: 'secret',
  AUTH_ISSUER_URL: 'http://localhost:4000',
  SMTP_URL: 'smtp://localhost:1025',
};

describe('notification service configuration', () => {
  it('listens on 3002 in group notification-service and sends from the shop with 32 emails in flight', () => {
    expect(loadConfig(notificationConfigSchema, valid)).toMatchObject({
      PORT: 3002,
      KAFKA_GROUP_ID: 'notification-service',
      MAIL_FROM: '"Shop" <orders@shop.example>',
      MAIL_CONCURRENCY: 32,
    });
  });

  it('refuses to start without an SMTP URL and says what is expected', () => {
    const { SMTP_URL: _omitted, ...withoutSmtp } = valid;
    expect(() => loadConfig(notificationConfigSchema, withoutSmtp)).toThrow(
      /SMTP_URL: required: smtp:\/\//,
    );
  });

  it('refuses a mail server URL that is not smtp:// or smtps://', () => {
    expect(() =>
      loadConfig(notificationConfigSchema, { ...valid, SMTP_URL: 'http://mail.example' }),
    ).toThrow(/SMTP_URL: expected an smtp:\/\/ or smtps:\/\/ URL/);
  });

  it('accepts an smtps URL with credentials', () => {
    const config = loadConfig(notificationConfigSchema, {
      ...valid,
      SMTP_URL: 'smtps://user:pw@mail.example:465',
    });
    expect(config.SMTP_URL).toBe('smtps://user:pw@mail.example:465');
  });

  it('keeps the number of emails in flight between 1 and 256', () => {
    expect(
      loadConfig(notificationConfigSchema, { ...valid, MAIL_CONCURRENCY: '256' }).MAIL_CONCURRENCY,
    ).toBe(256);
    expect(() => loadConfig(notificationConfigSchema, { ...valid, MAIL_CONCURRENCY: '0' })).toThrow(
      /MAIL_CONCURRENCY/,
    );
    expect(() =>
      loadConfig(notificationConfigSchema, { ...valid, MAIL_CONCURRENCY: '257' }),
    ).toThrow(/MAIL_CONCURRENCY/);
  });
});
