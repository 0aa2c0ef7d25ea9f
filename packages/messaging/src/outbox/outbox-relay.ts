import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { NotifyLoop } from '@shop/database';
import type { Logger } from '@shop/logging';
import type { KafkaEventPublisher } from '../event-publisher';
import type { MessagingMetrics, RelayPath } from '../metrics';
import type { OutboxRecord } from './outbox-record';

export interface OutboxRelayOptions {
  /** A pool connected as the service's role: `outbox_events` resolves through its search_path. */
  pool: Pool;
  publisher: KafkaEventPublisher;
  logger: Logger;
  /** This process, recorded on the rows it publishes. */
  replica: string;
  batchSize?: number;
  /** Safety net only: commits hand their rows over, and NOTIFY wakes the relay for the rest. */
  pollIntervalMs?: number;
  /** Sent rows are kept this long (for inspection), then deleted. */
  retentionMs?: number;
  /** Publish latency per topic and path, when the process exports metrics. */
  metrics?: MessagingMetrics;
}

/** An outbox row its transaction has committed: the record and the row's id. */
export interface CommittedOutboxRow extends OutboxRecord {
  id: string;
}

interface OutboxRow {
  id: string;
  event_id: string;
  event_type: string;
  topic: string;
  message_key: string;
  payload: OutboxRecord['payload'];
  trace_context: OutboxRecord['traceContext'];
}

/** Row ids this process has published or holds to publish: enough to recognise its own NOTIFYs. */
const REMEMBERED_IDS = 10_000;
/**
 * A commit's NOTIFY can arrive before the committing code has handed its rows over (Node reads
 * the listening connection first). A notification naming rows not handed over yet waits this
 * long before it costs a scan; by then the hand-over has usually made the scan unnecessary.
 */
const HAND_OVER_GRACE_MS = 5;

/**
 * Publishes committed outbox rows to Kafka and marks them sent.
 *
 * - One relay per schema leads (a session advisory lock held on its own connection), so replicas
 *   never reorder the events of one order. The others wait to take over.
 * - The fast path: a process that commits outbox rows hands them over (`publishCommitted`), and
 *   the leader publishes them from memory and marks them sent: one statement, no query first.
 * - The row is the durable record: rows committed by another replica, or by a process that died
 *   before handing them over, are found by a scan, woken by the NOTIFY the insert trigger sends
 *   at commit (its payload is the statement's largest id, so the leader skips its own, allowing
 *   a few milliseconds for the hand-over) and by a slow poll. A crash between send and mark re-sends: consumers are idempotent.
 * - With Kafka down rows simply wait; nothing is dropped.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private readonly pollIntervalMs: number;
  private readonly logger: Logger;
  private readonly loop: NotifyLoop;
  private lockKey = 0;
  private leader: PoolClient | undefined;
  private handedOver: CommittedOutboxRow[] = [];
  /** Ids published or handed over, oldest first (insertion order), at most REMEMBERED_IDS. */
  private readonly known = new Set<string>();
  private scanDue = true;
  /** Ids named by notifications, not handed over yet, waiting out HAND_OVER_GRACE_MS. */
  private readonly announced = new Set<string>();
  private graceTimer: NodeJS.Timeout | undefined;
  private lastScan = 0;
  private lastCleanup = 0;
  private consecutiveFailures = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.retentionMs = options.retentionMs ?? 60 * 60 * 1_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.logger = options.logger.child({ component: 'outbox-relay' });
    this.loop = new NotifyLoop({
      pool: options.pool,
      channelPrefix: 'outbox',
      work: () => this.drain(),
      pollIntervalMs: this.pollIntervalMs,
      wakesOn: (payload) => this.announcesUnknownRows(payload),
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

  /**
   * Publishes rows whose transaction has just committed, without reading them back. Only the
   * leader takes them; elsewhere the leader's scan finds them.
   */
  publishCommitted(rows: readonly CommittedOutboxRow[]): void {
    if (!this.leader || rows.length === 0) return;
    for (const row of rows) {
      if (this.known.has(row.id)) continue;
      this.remember(row.id);
      this.handedOver.push(row);
    }
    this.loop.wake();
  }

  /** Publishes soon: for callers that know a commit just added rows. */
  wake(): void {
    this.scanDue = true;
    this.loop.wake();
  }

  /** Stops listening, publishes what is committed so far (bounded by the producer's retries), steps down. */
  async stop(): Promise<void> {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    await this.loop.stop();
    this.scanDue = true;
    await this.drain();
    await this.stepDown();
  }

  /** Number of rows not yet published; for health and tests. */
  async pendingCount(): Promise<number> {
    const result = await this.options.pool.query<{ count: string }>(
      'SELECT count(*) AS count FROM outbox_events WHERE sent_at IS NULL',
    );
    return Number(result.rows[0]?.count ?? 0);
  }

  private announcesUnknownRows(payload: string): boolean {
    if (!this.leader || payload === '') {
      this.scanDue = true;
      return true;
    }
    if (this.known.has(payload)) return false;
    this.announced.add(payload);
    this.graceTimer ??= setTimeout(() => this.afterGrace(), HAND_OVER_GRACE_MS);
    return false;
  }

  /** Scans for what the grace period's notifications named and no hand-over brought. */
  private afterGrace(): void {
    this.graceTimer = undefined;
    const missing = [...this.announced].some((id) => !this.known.has(id));
    this.announced.clear();
    if (!missing) return;
    this.scanDue = true;
    this.loop.wake();
  }

  private async drain(): Promise<void> {
    try {
      const leader = await this.lead();
      if (!leader) return;
      if (Date.now() - this.lastScan >= this.pollIntervalMs) this.scanDue = true;
      while (this.handedOver.length > 0 || this.scanDue) {
        if (this.scanDue) {
          this.scanDue = false;
          this.lastScan = Date.now();
          const scanned = await this.scan(leader);
          if (scanned.length === this.batchSize) this.scanDue = true;
          // Known before they are sent, so a hand-over arriving meanwhile does not send them twice.
          for (const row of scanned) this.remember(row.id);
          const ids = new Set(scanned.map((row) => row.id));
          this.handedOver = this.handedOver.filter((row) => !ids.has(row.id));
          await this.publish(leader, scanned, 'scan');
        } else {
          await this.publish(leader, this.handedOver.splice(0, this.batchSize), 'hand-over');
        }
      }
      this.consecutiveFailures = 0;
      await this.cleanupSentRows(leader);
    } catch (error) {
      // What was handed over is still in the table: the next scan finds it, in order. The
      // leading connection may be what failed, so it is given up and taken again.
      this.handedOver = [];
      this.scanDue = true;
      this.abandonLead();
      this.consecutiveFailures += 1;
      const log = this.consecutiveFailures === 1 ? 'warn' : 'debug';
      this.logger[log](
        { err: error, failures: this.consecutiveFailures },
        'outbox publish failed; rows stay in the outbox and are retried',
      );
    }
  }

  /** The leader's connection, taking the lead if no other replica holds it. */
  private async lead(): Promise<PoolClient | undefined> {
    if (this.leader) return this.leader;
    const client = await this.options.pool.connect();
    try {
      const lock = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1) AS locked',
        [this.lockKey],
      );
      if (!lock.rows[0]?.locked) {
        client.release();
        return undefined;
      }
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    // A lost connection ends the session and so frees the lock for another replica.
    client.on('error', (error) => {
      if (this.leader !== client) return;
      this.logger.warn({ err: error }, 'outbox relay lost its leading connection');
      this.leader = undefined;
      client.release(error);
    });
    this.leader = client;
    this.scanDue = true;
    this.logger.info('outbox relay leads for this schema');
    return client;
  }

  private abandonLead(): void {
    const client = this.leader;
    this.leader = undefined;
    client?.release(true);
  }

  private async stepDown(): Promise<void> {
    const client = this.leader;
    if (!client) return;
    this.leader = undefined;
    // Destroying the connection ends the session, which frees the lock even if unlocking fails.
    await client.query('SELECT pg_advisory_unlock($1)', [this.lockKey]).catch(() => undefined);
    client.release(true);
  }

  private async scan(leader: PoolClient): Promise<CommittedOutboxRow[]> {
    // Named: prepared once on the leader's long-lived session, not parsed and planned per cycle.
    const { rows } = await leader.query<OutboxRow>({
      name: 'outbox-scan',
      text: `SELECT id, event_id, event_type, topic, message_key, payload, trace_context
               FROM outbox_events WHERE sent_at IS NULL ORDER BY id LIMIT $1`,
      values: [this.batchSize],
    });
    return rows.map(toCommittedRow);
  }

  private async publish(
    leader: PoolClient,
    rows: readonly CommittedOutboxRow[],
    path: RelayPath,
  ): Promise<void> {
    if (rows.length === 0) return;
    await this.options.publisher.publish(rows);
    const { metrics } = this.options;
    if (metrics) for (const row of rows) metrics.published(row.topic, path, row.payload.occurredAt);
    await leader.query({
      name: 'outbox-mark-sent',
      text: 'UPDATE outbox_events SET sent_at = now(), sent_by = $2 WHERE id = ANY($1::bigint[])',
      values: [rows.map((row) => row.id), this.options.replica],
    });
    for (const row of rows) this.remember(row.id);
    this.logger.debug({ count: rows.length }, 'outbox rows published');
  }

  private remember(id: string): void {
    this.known.delete(id);
    this.known.add(id);
    if (this.known.size > REMEMBERED_IDS) {
      const oldest = this.known.values().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  private async cleanupSentRows(leader: PoolClient): Promise<void> {
    const now = Date.now();
    if (now - this.lastCleanup < 60_000) return;
    this.lastCleanup = now;
    await leader.query(
      `DELETE FROM outbox_events WHERE sent_at < now() - ($1::bigint * interval '1 millisecond')`,
      [this.retentionMs],
    );
  }
}

function toCommittedRow(row: OutboxRow): CommittedOutboxRow {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    topic: row.topic,
    messageKey: row.message_key,
    payload: row.payload,
    traceContext: row.trace_context,
  };
}
