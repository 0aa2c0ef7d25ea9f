import { z } from 'zod';
import { baseConfigSchema } from '@shop/service-kit';

const smtpUrl = z
  .string({ message: 'required: smtp://user:password@host:port or smtps://… of the mail server' })
  .regex(
    /^smtps?:\/\/[^\s/]+/,
    'expected an smtp:// or smtps:// URL, e.g. smtp://user:password@mail.example:587',
  );

export const notificationConfigSchema = baseConfigSchema({
  serviceName: 'notification-service',
  port: 3002,
}).extend({
  SMTP_URL: smtpUrl,
  MAIL_FROM: z.string().min(1).default('"Shop" <orders@shop.example>'),
  /** Emails in flight at once per replica; the SMTP transport pools connections up to this. */
  MAIL_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
});

export type NotificationConfig = z.output<typeof notificationConfigSchema>;
