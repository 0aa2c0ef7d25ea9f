import type { Pool, PoolClient } from 'pg';

export interface NotifyLoopLogger {
  warn(details: object, message: string): void;
}

export interface NotifyLoopOptions {
  /** Connected as the service's role: the channel is `<channelPrefix>_<current schema>`. */
  pool: Pool;
  channelPrefix: string;
  /** Does one round of work; wake-ups during a round are coalesced into one more round. */
  work: () => Promise<void>;
  /** Safety net: notifications are not queued while the listening connection is down. */
  pollIntervalMs: number;
  /** Sees each notification's payload first; false means the work it announces is in hand. */
  wakesOn?: (payload: string) => boolean;
  logger: NotifyLoopLogger;
}

/**
 * Runs `work` whenever a transaction that wrote something for it commits: an insert trigger calls
 * `pg_notify('<prefix>_<schema>')`, delivered at commit, so work starts within milliseconds
 * instead of on a slow timer. A poll covers notifications missed while reconnecting.
 */
export class NotifyLoop {
  private listener: PoolClient | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wakeRequested = false;
  private stopped = true;

  constructor(private readonly options: NotifyLoopOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    const { rows } = await this.options.pool.query<{ schema: string | null }>(
      'SELECT current_schema() AS schema',
    );
    const schema = rows[0]?.schema;
    if (!schema) throw new Error('the database role has no schema on its search_path');
    await this.listen(`${this.options.channelPrefix}_${schema}`);
    this.pollTimer = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.pollTimer.unref();
    this.wake();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.running = this.options.work().finally(() => {
      this.running = undefined;
      if (this.wakeRequested && !this.stopped) {
        this.wakeRequested = false;
        this.wake();
      }
    });
  }

  /** Stops waking, waits for the round in progress and gives the listening connection back. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.running;
    this.listener?.release();
    this.listener = undefined;
  }

  private async listen(channel: string): Promise<void> {
    const client = await this.options.pool.connect();
    client.on('notification', ({ payload }) => {
      if (this.options.wakesOn?.(payload ?? '') ?? true) this.wake();
    });
    client.on('error', (error) => {
      this.options.logger.warn({ err: error, channel }, 'listening connection lost; reconnecting');
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
        await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs));
      }
    }
  }
}
