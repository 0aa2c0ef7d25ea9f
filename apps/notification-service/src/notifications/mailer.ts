import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { SERVICE_CONFIG } from '@shop/service-kit';
import type { NotificationConfig } from '../config/notification-config';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** The Message-ID header, angle brackets included. */
  messageId: string;
}

/** Hands an email to a mail server; resolves once the server has accepted it. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
}

export const MAILER = Symbol('MAILER');

/** Sends through the SMTP server of SMTP_URL over a pool of at most MAIL_CONCURRENCY connections. */
@Injectable()
export class SmtpMailer implements Mailer, OnApplicationShutdown {
  private readonly transport: Transporter<SMTPPool.SentMessageInfo>;
  private readonly from: string;

  constructor(@Inject(SERVICE_CONFIG) config: NotificationConfig) {
    this.transport = createTransport(smtpPoolOptions(config.SMTP_URL, config.MAIL_CONCURRENCY));
    this.from = config.MAIL_FROM;
  }

  async send(mail: OutgoingMail): Promise<{ messageId: string }> {
    const info = await this.transport.sendMail({ from: this.from, ...mail });
    return { messageId: info.messageId };
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}

/**
 * Transport options from an smtp(s):// URL. Parsed here because nodemailer, given `url`, ignores
 * every other option (pool, timeouts). The timeouts bound a send well below the dispatcher's claim lease.
 */
export function smtpPoolOptions(smtpUrl: string, maxConnections: number): SMTPPool.Options {
  const url = new URL(smtpUrl);
  const secure = url.protocol === 'smtps:';
  return {
    pool: true,
    maxConnections,
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
}
