import type { Logger } from '@shop/logging';

/** The next offset to read, per partition: what an OffsetCommit request carries. */
export interface CommitTarget {
  topic: string;
  partition: number;
  offset: string;
}

export type SendCommit = (targets: CommitTarget[]) => Promise<void>;

/**
 * Commits the offsets a consumer is done with at most once per interval, not once per batch.
 *
 * kafkajs commits after every `eachBatch` call whatever its `autoCommitInterval` says (runner.js,
 * `autoCommitOffsets` after each batch), so at moderate rates, where a batch is one or two
 * messages, every delivery cost an OffsetCommit request and a write to `__consumer_offsets`.
 * The consumer runs with `autoCommit: false` and hands what it resolved to this class instead.
 * A message done but not yet committed when the process dies is delivered again, which the
 * idempotent handlers absorb: the interval bounds how many.
 *
 * What was resolved before a rebalance is forgotten, not committed later: once the group has
 * moved on, a partition may belong to another member, and a late commit would move its offset
 * back. The group's next owner starts from the last commit instead.
 */
export class OffsetCommits {
  private readonly pending = new Map<string, CommitTarget>();
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = 0;
  private sending: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly send: SendCommit,
    private readonly log: Logger,
  ) {}

  /** A partition is done up to and including `offset`; it is committed within the interval. */
  resolved(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}:${partition}`, {
      topic,
      partition,
      offset: (BigInt(offset) + 1n).toString(),
    });
    this.schedule();
  }

  /** The group is rebalancing: what this member resolved may no longer be its to commit. */
  forget(): void {
    this.pending.clear();
  }

  /** Commits everything resolved so far, now, through `send` (by default the consumer's own). */
  flush(send: SendCommit = this.send): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.sending = this.sending.then(() => this.sendPending(send));
    return this.sending;
  }

  /** No timer is left behind; what is still pending is for `flush` to send. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastSentAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  private async sendPending(send: SendCommit): Promise<void> {
    const targets = [...this.pending.values()];
    if (targets.length === 0) return;
    this.lastSentAt = Date.now();
    try {
      await send(targets);
      for (const target of targets) {
        const key = `${target.topic}:${target.partition}`;
        if (this.pending.get(key) === target) this.pending.delete(key);
      }
    } catch (error) {
      // Kept for the next attempt unless a rebalance makes it stale meanwhile (forget).
      this.log.warn({ err: error, offsets: targets }, 'offset commit failed; will try again');
      this.schedule();
    }
  }
}
