import { AssignerProtocol, Kafka, logLevel, type Admin } from 'kafkajs';
import { ALL_TOPICS } from '@shop/contracts';
import { devstackKafkaSasl } from '@shop/devstack';

/** Same naming as deadLetterTopic() in @shop/messaging, which this test-only package does not depend on. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

export interface DeadLetterCount {
  /** False until the services create dead-letter topics; the count is then 0. */
  topicsExist: boolean;
  total: number;
}

/**
 * Read-only questions to the broker. Every call uses a fresh admin client: the broker is killed
 * and restarted during the run, and a fresh client never holds a dead connection.
 */
export class KafkaWatch {
  constructor(private readonly brokers: string) {}

  /** Messages ever written to the dead-letter topics of every source topic. */
  deadLetters(): Promise<DeadLetterCount> {
    return this.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const topics = ALL_TOPICS.map(deadLetterTopic).filter((topic) => existing.has(topic));
      let total = 0;
      for (const topic of topics) {
        for (const partition of await admin.fetchTopicOffsets(topic))
          total += Number(partition.high);
      }
      return { topicsExist: topics.length === ALL_TOPICS.length, total };
    });
  }

  /** Messages on the topics a group reads that it has not committed yet. */
  lag(groupId: string): Promise<number> {
    return this.withAdmin(async (admin) => {
      const committedTopics = (await admin.fetchOffsets({ groupId })).map((entry) => entry.topic);
      const topics = [...new Set([...(await subscriptions(admin, groupId)), ...committedTopics])];
      if (topics.length === 0) return 0;
      let lag = 0;
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const end of ends) {
          const committed = partitions.find((entry) => entry.partition === end.partition)?.offset;
          const from = committed === undefined || committed === '-1' ? end.low : committed;
          lag += Number(BigInt(end.high) - BigInt(from));
        }
      }
      return lag;
    });
  }

  /** Each partition's log end (the offset the next record gets) on these topics. */
  logEnds(
    topics: readonly string[],
  ): Promise<Array<{ topic: string; partition: number; end: bigint }>> {
    return this.withAdmin(async (admin) => {
      const ends = [];
      for (const topic of topics) {
        for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
          ends.push({ topic, partition, end: BigInt(high) });
        }
      }
      return ends;
    });
  }

  /** The positions among `ends`, on topics the group reads, that it has not committed past yet. */
  uncommitted(
    groupId: string,
    ends: ReadonlyArray<{ topic: string; partition: number; end: bigint }>,
  ): Promise<number> {
    return this.withAdmin(async (admin) => {
      const read = new Set(await subscriptions(admin, groupId));
      const topics = [...new Set(ends.map((end) => end.topic))].filter((topic) => read.has(topic));
      if (topics.length === 0) return 0;
      const committed = await admin.fetchOffsets({ groupId, topics });
      return ends.filter(({ topic, partition, end }) => {
        if (!read.has(topic)) return false;
        const offset = committed
          .find((entry) => entry.topic === topic)
          ?.partitions.find((entry) => entry.partition === partition)?.offset;
        return offset === undefined || BigInt(offset) < end;
      }).length;
    });
  }

  /** The topics each group subscribes to, from its members' own metadata. */
  subscribers(groupIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.withAdmin(async (admin) => {
      const byTopic = new Map<string, string[]>();
      for (const groupId of groupIds) {
        for (const topic of await subscriptions(admin, groupId)) {
          byTopic.set(topic, [...(byTopic.get(topic) ?? []), groupId]);
        }
      }
      return byTopic;
    });
  }

  /** How many partitions each member of the group holds. */
  assignments(groupId: string): Promise<number[]> {
    return this.withAdmin(async (admin) => {
      const { groups } = await admin.describeGroups([groupId]);
      return (groups[0]?.members ?? []).map((member) => {
        const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        return Object.values(assignment?.assignment ?? {}).reduce(
          (sum, partitions) => sum + partitions.length,
          0,
        );
      });
    });
  }

  private async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = new Kafka({
      clientId: 'chaos-watch',
      brokers: this.brokers.split(','),
      sasl: devstackKafkaSasl(),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      retry: { retries: 2 },
    }).admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

async function subscriptions(admin: Admin, groupId: string): Promise<string[]> {
  const { groups } = await admin.describeGroups([groupId]);
  const topics = (groups[0]?.members ?? []).flatMap(
    (member) => AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.topics ?? [],
  );
  return [...new Set(topics)];
}
