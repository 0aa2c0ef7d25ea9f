import type { ClusterSnapshot } from '@shop/messaging';

interface Advance {
  /** The committed offset: the group has passed every record below it. */
  committed: bigint;
  /** The first snapshot that showed it. */
  seenAt: number;
}

const ADVANCES_KEPT = 2_000;
const LAG_SAMPLES_KEPT = 120;

/**
 * The committed offsets of every group over time, from successive snapshots: for any record,
 * when a group was first seen past it ("has my group passed this message yet?"), and each
 * group's total lag over the last two minutes.
 */
export class CommitLedger {
  private readonly advances = new Map<string, Advance[]>();
  private readonly lag = new Map<string, Array<{ at: number; lag: number }>>();

  record(snapshot: ClusterSnapshot): void {
    const ends = new Map<string, bigint>();
    for (const { topic, partitions } of snapshot.topics) {
      for (const { partition, high } of partitions) ends.set(`${topic}:${partition}`, BigInt(high));
    }
    for (const group of snapshot.groups) {
      let total = 0n;
      const committedHere = new Map<string, bigint>();
      for (const { topic, partition, offset } of group.committed) {
        const key = `${group.groupId}|${topic}:${partition}`;
        const committed = BigInt(offset);
        committedHere.set(`${topic}:${partition}`, committed);
        const history = this.advances.get(key) ?? [];
        const last = history.at(-1);
        if (!last || committed > last.committed) {
          history.push({ committed, seenAt: snapshot.takenAt });
          if (history.length > ADVANCES_KEPT) history.splice(0, history.length - ADVANCES_KEPT);
          this.advances.set(key, history);
        }
      }
      for (const [partitionKey, end] of ends) {
        const committed = committedHere.get(partitionKey);
        if (committed !== undefined) total += end > committed ? end - committed : 0n;
        else if (this.readsTopic(group, partitionKey)) total += end;
      }
      const samples = this.lag.get(group.groupId) ?? [];
      samples.push({ at: snapshot.takenAt, lag: Number(total) });
      if (samples.length > LAG_SAMPLES_KEPT) samples.splice(0, samples.length - LAG_SAMPLES_KEPT);
      this.lag.set(group.groupId, samples);
    }
  }

  /** When the group was first seen committed past the record, or null if not (yet). */
  passedAt(groupId: string, topic: string, partition: number, offset: string): number | null {
    const history = this.advances.get(`${groupId}|${topic}:${partition}`);
    if (!history) return null;
    const position = BigInt(offset);
    return history.find((advance) => advance.committed > position)?.seenAt ?? null;
  }

  lagHistory(groupId: string): Array<{ at: number; lag: number }> {
    return this.lag.get(groupId) ?? [];
  }

  /** A group with members assigned to the topic but nothing committed yet lags by the whole log. */
  private readsTopic(group: ClusterSnapshot['groups'][number], partitionKey: string): boolean {
    const [topic] = partitionKey.split(':');
    return group.members.some((member) => member.assignments.some((a) => a.topic === topic));
  }
}
