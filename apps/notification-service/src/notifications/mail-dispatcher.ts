import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Pool } from 'pg';
import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { NotifyLoop } from '@shop/database';
import { contextOf, endSpan } from '@shop/messaging';
import type { Logger } from '@shop/logging';
import { LOGGER, PG_POOL, SERVICE_CONFIG } from '@shop/service-kit';
import type { NotificationConfig } from '../config/notification-config';
import { afterFailure, CLAIM_LEASE_MS, describeSendError, messageIdFor } from './delivery-policy';
import { MailMetrics } from './mail-metrics';
import { MAILER, type Mailer } from './mailer';
import { NotificationsRepository, type ClaimedEmail } from './notifications.repository';

/** Safety net only: inserts wake the dispatcher at once through LISTEN/NOTIFY; the poll also fires due retries. */
const POLL_INTERVAL_MS = 1_000;

/**
 * Sends the PENDING emails, away from the Kafka handler so a slow mail server never stalls consumption.
 *
 * - Woken by the NOTIFY the notifications insert trigger sends on commit; a poll covers missed
 *   notifications and retries that fall due. Wake-ups during a drain are coalesced into one more drain.
 * - Claims rows with FOR UPDATE SKIP LOCKED and pushes their next attempt a lease into the future,
 *   so replicas never send the same email concurrently; a crashed dispatcher's claim expires.
 * - At most MAIL_CONCURRENCY emails in flight; a failure is retried with backoff, then marked FAILED.
 */
@Injectable()
export class MailDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly loop: NotifyLoop;
  private stopped = true;
  private consecutiveFailures = 0;
  /** The last claim filled every free slot: more emails are probably due. */
  private backlog = false;

  constructor(
    @Inject(PG_POOL) pool: Pool,
    private readonly notifications: NotificationsRepository,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(SERVICE_CONFIG) config: NotificationConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly metrics: MailMetrics,
  ) {
    this.concurrency = config.MAIL_CONCURRENCY;
    this.log = logger.child({ component: 'mail-dispatcher' });
    this.loop = new NotifyLoop({
      pool,
      channelPrefix: 'mail',
      work: () => this.drain(),
      pollIntervalMs: POLL_INTERVAL_MS,
      logger: this.log,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.stopped = false;
    await this.loop.start();
  }

  // Before, not on, application shutdown: the platform ends the shared pool in its own
  // onApplicationShutdown, and it would wait forever for the listener connection held here.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims due emails into the free sending slots. */
  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        const free = this.concurrency - this.inFlight.size;
        if (free <= 0) return;
        const claimed = await this.notifications.claimDue(free, CLAIM_LEASE_MS);
        for (const email of claimed) this.startDelivery(email);
        this.backlog = claimed.length === free;
        if (!this.backlog) break;
      }
      this.consecutiveFailures = 0;
    } catch (error) {
      this.consecutiveFailures += 1;
      this.log[this.consecutiveFailures === 1 ? 'warn' : 'debug'](
        { err: error, failures: this.consecutiveFailures },
        'could not claim emails to send; they stay PENDING and are retried',
      );
    }
  }

  /**
   * With a backlog, finished sends wake the drain once half the slots are free, so a busy
   * dispatcher claims in batches rather than with one query per email sent.
   */
  private startDelivery(email: ClaimedEmail): void {
    const delivery = this.deliver(email).finally(() => {
      this.inFlight.delete(delivery);
      if (this.backlog && this.inFlight.size <= this.concurrency / 2) this.loop.wake();
    });
    this.inFlight.add(delivery);
  }

  /** Never rejects: every outcome is recorded on the row (or, if the database is gone, left to the lease). */
  private async deliver(email: ClaimedEmail): Promise<void> {
    const details = { notificationId: email.id, eventId: email.event_id, attempt: email.attempts };
    let messageId: string;
    const span = startSmtpSendSpan(email);
    try {
      const sent = await context.with(trace.setSpan(context.active(), span), () =>
        this.mailer.send({
          to: email.recipient,
          subject: email.subject,
          text: email.body,
          messageId: messageIdFor(email.event_id),
        }),
      );
      messageId = sent.messageId;
      endSpan(span);
      this.metrics.attempted(email.type, 'sent');
    } catch (error) {
      endSpan(span, error);
      await this.recordFailure(email, error).catch((recordError: unknown) =>
        this.log.warn(
          { ...details, err: recordError },
          'could not record a failed send; retried when the claim expires',
        ),
      );
      return;
    }
    try {
      await this.notifications.markSent(email.id, messageId);
      this.log.debug({ ...details, messageId }, 'email sent');
    } catch (error) {
      this.log.error(
        { ...details, err: error },
        'email sent but not marked SENT; it is resent with the same Message-ID when the claim expires',
      );
    }
  }

  private async recordFailure(email: ClaimedEmail, error: unknown): Promise<void> {
    const lastError = describeSendError(error);
    const outcome = afterFailure(email.attempts, new Date());
    const details = {
      notificationId: email.id,
      eventId: email.event_id,
      attempts: email.attempts,
      lastError,
    };
    this.metrics.attempted(email.type, outcome.status === 'FAILED' ? 'failed' : 'retry');
    if (outcome.status === 'FAILED') {
      await this.notifications.markFailed(email.id, lastError);
      this.log.error(details, 'email could not be sent on any attempt; given up');
      return;
    }
    await this.notifications.scheduleRetry(email.id, lastError, outcome.nextAttemptAt);
    this.log.warn(
      { ...details, nextAttemptAt: outcome.nextAttemptAt.toISOString() },
      'email not sent; retrying later',
    );
  }
}

const tracer = trace.getTracer('@shop/notification-service');

/** The SMTP send continues the trace of the event that asked for the email: an order's trace ends here. */
function startSmtpSendSpan(email: ClaimedEmail): Span {
  return tracer.startSpan(
    'smtp send',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'shop.email.type': email.type,
        'shop.email.attempt': email.attempts,
        'shop.event.id': email.event_id,
      },
    },
    contextOf(email.trace_context),
  );
}
