import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { NotifyLoop } from '@shop/database';
import type { Logger } from '@shop/logging';
import type { KafkaEventPublisher } from '../event-publisher';
import type { OutboxRecord } from './outbox-record';

export interface OutboxRelayOptions {
  /** A pool connected as the service's role: `outbox_events` resolves through its search_path. */
  pool: Pool;
  publisher: KafkaEventPublisher;
  logger: Logger;
  /** This process, recorded on the rows it publishes. */
  replica: string;
  batchSize?: number;
  /** Safety net only: commits wake the relay at once through LISTEN/NOTIFY. */
  pollIntervalMs?: number;
  /** Sent rows are kept this long (for inspection), then deleted. */
  retentionMs?: number;
}

interface OutboxRow {
  id: string;
  event_id: string;
  event_type: string;
  topic: string;
  message_key: string;
  payload: OutboxRecord['payload'];
}

/**
 * Publishes committed outbox rows to Kafka in commit order and marks them sent.
 *
 * - Woken by the NOTIFY that the outbox insert trigger sends when the writing transaction
 *   commits, so an event leaves within milliseconds; a slow poll covers missed notifications.
 * - One relay per schema publishes at a time (advisory lock), so replicas never reorder the
 *   events of one order. A crash between send and mark re-sends: consumers are idempotent.
 * - With Kafka down rows simply wait; nothing is dropped.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private readonly logger: Logger;
  private readonly loop: NotifyLoop;
  private lockKey = 0;
  private lastCleanup = 0;
  private consecutiveFailures = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.retentionMs = options.retentionMs ?? 60 * 60 * 1_000;
    this.logger = options.logger.child({ component: 'outbox-relay' });
    this.loop = new NotifyLoop({
      pool: options.pool,
      channelPrefix: 'outbox',
      work: () => this.drain(),
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      logger: this.logger,
    });
  }

  async start(): Promise<void> {
    const { rows } = await this.options.pool.query<{ schema: string }>(
      'SELECT current_schema() AS schema',
    );
    this.lockKey = createHash('sha256').update(`outbox:${rows[0]?.schema}`).digest().readInt32BE(0);
    await this.loop.start();
  }

  /** Publishes soon: for callers that know a commit just added rows. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops listening, then publishes what is committed so far (bounded by the producer's retries). */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.drain();
  }

  /** Number of rows not yet published; for health and tests. */
  async pendingCount(): Promise<number> {
    const result = await this.options.pool.query<{ count: string }>(
      'SELECT count(*) AS count FROM outbox_events WHERE sent_at IS NULL',
    );
    return Number(result.rows[0]?.count ?? 0);
  }

  private async drain(): Promise<void> {
    try {
      let published: number;
      do {
        published = await this.publishBatch();
      } while (published === this.batchSize);
      this.consecutiveFailures = 0;
      await this.cleanupSentRows();
    } catch (error) {
      this.consecutiveFailures += 1;
      const log = this.consecutiveFailures === 1 ? 'warn' : 'debug';
      this.logger[log](
        { err: error, failures: this.consecutiveFailures },
        'outbox publish failed; rows stay in the outbox and are retried',
      );
    }
  }

  private async publishBatch(): Promise<number> {
    const client = await this.options.pool.connect();
    try {
      const lock = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS locked',
        [this.lockKey],
      );
      if (!lock.rows[0]?.locked) return 0;
      try {
        const { rows } = await client.query<OutboxRow>(
          `SELECT id, event_id, event_type, topic, message_key, payload
             FROM outbox_events WHERE sent_at IS NULL ORDER BY id LIMIT $1`,
          [this.batchSize],
        );
        if (rows.length === 0) return 0;
        await this.options.publisher.publish(rows.map(toRecord));
        await client.query(
          'UPDATE outbox_events SET sent_at = now(), sent_by = $2 WHERE id = ANY($1::bigint[])',
          [rows.map((row) => row.id), this.options.replica],
        );
        this.logger.debug({ count: rows.length }, 'outbox rows published');
        return rows.length;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [this.lockKey]);
      }
    } finally {
      client.release();
    }
  }

  private async cleanupSentRows(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCleanup < 60_000) return;
    this.lastCleanup = now;
    await this.options.pool.query(
      `DELETE FROM outbox_events WHERE sent_at < now() - ($1::bigint * interval '1 millisecond')`,
      [this.retentionMs],
    );
  }
}

function toRecord(row: OutboxRow): OutboxRecord {
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    topic: row.topic,
    messageKey: row.message_key,
    payload: row.payload,
  };
}
