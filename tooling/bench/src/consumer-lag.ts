import { Kafka, logLevel, type Admin } from 'kafkajs';
import { devstackKafkaSasl } from '@shop/devstack';

export interface ConsumerGroup {
  /** Label in the report, e.g. the service name. */
  name: string;
  groupId: string;
  topics: string[];
}

/** Messages published but not yet committed by each group: end offset minus committed offset. */
export type LagSample = Record<string, number>;

export class ConsumerLagProbe {
  private constructor(
    private readonly admin: Admin,
    private readonly groups: () => ConsumerGroup[],
  ) {}

  static async connect(brokers: string, groups: () => ConsumerGroup[]): Promise<ConsumerLagProbe> {
    const admin = new Kafka({
      clientId: 'bench-lag',
      brokers: brokers.split(','),
      sasl: devstackKafkaSasl(),
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    return new ConsumerLagProbe(admin, groups);
  }

  async sample(): Promise<LagSample> {
    const groups = this.groups();
    const topics = [...new Set(groups.flatMap((group) => group.topics))];
    const ends = new Map<string, number>();
    const lows = new Map<string, number>();
    await Promise.all(
      topics.map(async (topic) => {
        for (const partition of await this.admin.fetchTopicOffsets(topic)) {
          ends.set(`${topic}/${partition.partition}`, Number(partition.high));
          lows.set(`${topic}/${partition.partition}`, Number(partition.low));
        }
      }),
    );
    const lag: LagSample = {};
    await Promise.all(
      groups.map(async (group) => {
        let total = 0;
        for (const topic of await this.admin.fetchOffsets({
          groupId: group.groupId,
          topics: group.topics,
        })) {
          for (const partition of topic.partitions) {
            const key = `${topic.topic}/${partition.partition}`;
            const committed = Number(partition.offset);
            // -1: nothing committed yet; the group reads from the beginning of what is retained.
            const from = committed >= 0 ? committed : (lows.get(key) ?? 0);
            total += Math.max(0, (ends.get(key) ?? 0) - from);
          }
        }
        lag[group.name] = total;
      }),
    );
    return lag;
  }

  async close(): Promise<void> {
    await this.admin.disconnect();
  }
}

export function totalLag(sample: LagSample): number {
  return Object.values(sample).reduce((sum, value) => sum + value, 0);
}
