import { AssignerProtocol, type Admin } from 'kafkajs';

export interface PartitionEnd {
  partition: number;
  /** The log-end offset: the offset the next record will get. */
  high: string;
}

export interface GroupMemberSnapshot {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignments: Array<{ topic: string; partitions: number[] }>;
}

export interface GroupSnapshot {
  groupId: string;
  state: string;
  members: GroupMemberSnapshot[];
  /** Committed offsets on the watched topics; a partition the group never committed is left out. */
  committed: Array<{ topic: string; partition: number; offset: string }>;
}

export interface ClusterSnapshot {
  takenAt: number;
  topics: Array<{ topic: string; partitions: PartitionEnd[] }>;
  groups: GroupSnapshot[];
}

/**
 * What Kafka's admin API says right now about the given topics and every consumer group on
 * them: log-end offsets, members and their assigned partitions, committed offsets.
 * `includeGroup` leaves out throwaway groups (a dead-letter listing, a test's probe).
 */
export async function takeClusterSnapshot(
  admin: Admin,
  topics: readonly string[],
  includeGroup: (groupId: string) => boolean = () => true,
): Promise<ClusterSnapshot> {
  const takenAt = Date.now();
  const ends = await Promise.all(
    topics.map(async (topic) => ({
      topic,
      partitions: (await admin.fetchTopicOffsets(topic))
        .map(({ partition, high }) => ({ partition, high }))
        .sort((a, b) => a.partition - b.partition),
    })),
  );
  const { groups: listed } = await admin.listGroups();
  const groupIds = listed
    .filter((group) => group.protocolType === 'consumer' && includeGroup(group.groupId))
    .map((group) => group.groupId)
    .sort();
  const described = groupIds.length === 0 ? [] : (await admin.describeGroups(groupIds)).groups;
  const groups = await Promise.all(
    described.map(async (group): Promise<GroupSnapshot> => {
      const offsets = await admin.fetchOffsets({ groupId: group.groupId, topics: [...topics] });
      return {
        groupId: group.groupId,
        state: group.state,
        members: group.members.map((member) => ({
          memberId: member.memberId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          assignments: decodeAssignment(member.memberAssignment),
        })),
        committed: offsets.flatMap(({ topic, partitions }) =>
          partitions
            .filter(({ offset }) => offset !== '-1')
            .map(({ partition, offset }) => ({ topic, partition, offset })),
        ),
      };
    }),
  );
  return {
    takenAt,
    topics: ends,
    groups: groups.filter((group) => group.members.length > 0 || group.committed.length > 0),
  };
}

function decodeAssignment(buffer: Buffer): GroupMemberSnapshot['assignments'] {
  if (buffer.length === 0) return [];
  const decoded = AssignerProtocol.MemberAssignment.decode(buffer);
  if (!decoded) return [];
  return Object.entries(decoded.assignment)
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
    .sort((a, b) => a.topic.localeCompare(b.topic));
}
