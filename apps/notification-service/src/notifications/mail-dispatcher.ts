import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { LOGGER, PG_POOL, SERVICE_CONFIG } from '@shop/service-kit';
import type { NotificationConfig } from '../config/notification-config';
import { afterFailure, CLAIM_LEASE_MS, describeSendError, messageIdFor } from './delivery-policy';
import { MAILER, type Mailer } from './mailer';

/** The slice of node-postgres the dispatcher uses; PG_POOL is a `pg` Pool, which this app does not import. */
export interface PgQueryable {
  query<R>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface PgPoolClient extends PgQueryable {
  on(event: 'notification', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  release(error?: Error): void;
}

export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
}

interface ClaimedEmail {
  id: string;
  event_id: string;
  recipient: string;
  subject: string;
  body: string;
  attempts: number;
}

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
  private listener: PgPoolClient | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private wakeRequested = false;
  private stopped = true;
  private consecutiveFailures = 0;

  constructor(
    @Inject(PG_POOL) private readonly pool: PgPool,
    @Inject(MAILER) private readonly mailer: Mailer,
    @Inject(SERVICE_CONFIG) config: NotificationConfig,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.concurrency = config.MAIL_CONCURRENCY;
    this.log = logger.child({ component: 'mail-dispatcher' });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.stopped = false;
    const schema = await this.currentSchema();
    await this.listen(`mail_${schema}`);
    this.pollTimer = setInterval(() => this.wake(), POLL_INTERVAL_MS);
    this.pollTimer.unref();
    this.wake();
  }

  // Before, not on, application shutdown: the platform ends the shared pool in its own
  // onApplicationShutdown, and it would wait forever for the listener connection held here.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.draining;
    await Promise.allSettled([...this.inFlight]);
    this.listener?.release();
    this.listener = undefined;
  }

  /** Sends what is due soon; coalesces wake-ups that arrive while a drain is running. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.wakeRequested = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.wakeRequested && !this.stopped) {
        this.wakeRequested = false;
        this.wake();
      }
    });
  }

  /** Claims due emails into the free sending slots; a finished send frees a slot and wakes it again. */
  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        const free = this.concurrency - this.inFlight.size;
        if (free <= 0) return;
        const claimed = await this.claim(free);
        for (const email of claimed) this.startDelivery(email);
        if (claimed.length < free) break;
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

  private startDelivery(email: ClaimedEmail): void {
    const delivery = this.deliver(email).finally(() => {
      this.inFlight.delete(delivery);
      this.wake();
    });
    this.inFlight.add(delivery);
  }

  private async claim(limit: number): Promise<ClaimedEmail[]> {
    const { rows } = await this.pool.query<ClaimedEmail>(
      `UPDATE notifications
          SET attempts = attempts + 1,
              next_attempt_at = now() + ($2::bigint * interval '1 millisecond')
        WHERE id IN (
              SELECT id FROM notifications
               WHERE status = 'PENDING' AND next_attempt_at <= now()
               ORDER BY created_at
               LIMIT $1
                 FOR UPDATE SKIP LOCKED)
    RETURNING id, event_id, recipient, subject, body, attempts`,
      [limit, CLAIM_LEASE_MS],
    );
    return rows;
  }

  /** Never rejects: every outcome is recorded on the row (or, if the database is gone, left to the lease). */
  private async deliver(email: ClaimedEmail): Promise<void> {
    const details = { notificationId: email.id, eventId: email.event_id, attempt: email.attempts };
    let messageId: string;
    try {
      const sent = await this.mailer.send({
        to: email.recipient,
        subject: email.subject,
        text: email.body,
        messageId: messageIdFor(email.event_id),
      });
      messageId = sent.messageId;
    } catch (error) {
      await this.recordFailure(email, error).catch((recordError: unknown) =>
        this.log.warn(
          { ...details, err: recordError },
          'could not record a failed send; retried when the claim expires',
        ),
      );
      return;
    }
    try {
      await this.pool.query(
        `UPDATE notifications SET status = 'SENT', sent_at = now(), message_id = $2, last_error = NULL
          WHERE id = $1 AND status = 'PENDING'`,
        [email.id, messageId],
      );
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
    if (outcome.status === 'FAILED') {
      await this.pool.query(
        `UPDATE notifications SET status = 'FAILED', last_error = $2 WHERE id = $1`,
        [email.id, lastError],
      );
      this.log.error(details, 'email could not be sent on any attempt; given up');
      return;
    }
    await this.pool.query(
      `UPDATE notifications SET last_error = $2, next_attempt_at = $3 WHERE id = $1`,
      [email.id, lastError, outcome.nextAttemptAt],
    );
    this.log.warn(
      { ...details, nextAttemptAt: outcome.nextAttemptAt.toISOString() },
      'email not sent; retrying later',
    );
  }

  private async currentSchema(): Promise<string> {
    const { rows } = await this.pool.query<{ schema: string | null }>(
      'SELECT current_schema() AS schema',
    );
    const schema = rows[0]?.schema;
    if (!schema) throw new Error('the database role has no schema on its search_path');
    return schema;
  }

  private async listen(channel: string): Promise<void> {
    const client = await this.pool.connect();
    client.on('notification', () => this.wake());
    client.on('error', (error) => {
      this.log.warn({ err: error }, 'mail listener connection lost; reconnecting');
      client.release(error);
      this.listener = undefined;
      void this.relisten(channel);
    });
    try {
      await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    this.listener = client;
  }

  private async relisten(channel: string): Promise<void> {
    while (!this.stopped && !this.listener) {
      try {
        await this.listen(channel);
        this.wake();
      } catch {
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
      }
    }
  }
}
