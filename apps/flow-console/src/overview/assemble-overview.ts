import type { ClusterSnapshot } from '@shop/messaging';
import type { ObservedDeadLetter } from '../observer/observed';
import type { ReplicaState } from '../services/service-directory';
import { producerOf, SERVICE_ROLES, serviceOfGroup } from '../topology';
import type { GroupView, Overview, ServiceView, TopicView } from '../views/view-models';

export interface OverviewFacts {
  now: number;
  snapshot: ClusterSnapshot | null;
  consoleGroup: string;
  replicas: readonly ReplicaState[];
  deadLetters(topic: string): { count: number; latest: ObservedDeadLetter } | undefined;
  lagHistory(groupId: string): ReadonlyArray<{ at: number; lag: number }>;
}

/** The system map: who produces to which topic, where each partition ends, where each group stands. */
export function assembleOverview(facts: OverviewFacts): Overview {
  const groups = (facts.snapshot?.groups ?? []).map((group) => groupView(facts, group));
  return {
    generatedAt: new Date(facts.now).toISOString(),
    services: SERVICE_ROLES.map((role) => serviceView(facts, role.name)),
    topics: (facts.snapshot?.topics ?? []).map(({ topic, partitions }): TopicView => {
      const deadLetter = topic.endsWith('.dlq');
      const totals = deadLetter ? facts.deadLetters(topic) : undefined;
      const producer = deadLetter ? undefined : producerOf(topic);
      return {
        name: topic,
        deadLetter,
        partitions: partitions.map(({ partition, high }) => ({ partition, logEndOffset: high })),
        producers: producer ? [producer] : [],
        consumerGroups: groups
          .filter(
            (group) =>
              group.partitions.some((p) => p.topic === topic) ||
              group.members.some((m) => m.assignments.some((a) => a.topic === topic)),
          )
          .map((group) => group.groupId),
        deadLetters: deadLetter
          ? {
              count: totals?.count ?? 0,
              latest: totals
                ? {
                    reason: totals.latest.reason,
                    error: totals.latest.error,
                    group: totals.latest.group,
                    at: new Date(totals.latest.failedAt).toISOString(),
                  }
                : null,
            }
          : null,
      };
    }),
    groups,
  };
}

function serviceView(facts: OverviewFacts, name: string): ServiceView {
  const role = SERVICE_ROLES.find((candidate) => candidate.name === name)!;
  const replicas = facts.replicas.filter((replica) => replica.service === name);
  const answered = replicas.flatMap((replica) => (replica.figures ? [replica.figures] : []));
  // The outbox and the service's own figures live in its database: every replica reads the same.
  const first = answered[0];
  return {
    name,
    replicas: replicas.map((replica) => ({
      replica: replica.figures?.replica ?? replica.url,
      url: replica.url,
      reachable: replica.figures !== null,
      consumer: replica.figures?.consumer ?? null,
    })),
    produces: role.produces.map((event) => event.type),
    consumes: role.consumes.map((event) => event.type),
    paused: answered.some((figures) => figures.consumer.paused),
    outbox: first?.outbox ?? null,
    figures: first?.figures ?? {},
    retrying: answered.reduce((sum, figures) => sum + figures.consumer.retrying, 0),
  };
}

function groupView(facts: OverviewFacts, group: ClusterSnapshot['groups'][number]): GroupView {
  const ends = new Map<string, string>();
  for (const { topic, partitions } of facts.snapshot?.topics ?? []) {
    for (const { partition, high } of partitions) ends.set(`${topic}:${partition}`, high);
  }
  const committed = new Map(group.committed.map((c) => [`${c.topic}:${c.partition}`, c.offset]));
  const read = new Set([
    ...group.committed.map((c) => `${c.topic}:${c.partition}`),
    ...group.members.flatMap((member) =>
      member.assignments.flatMap((a) => a.partitions.map((p) => `${a.topic}:${p}`)),
    ),
  ]);
  const partitions = [...read].sort().map((key) => {
    const [topic = '', partition = '0'] = key.split(':');
    const end = ends.get(key) ?? '0';
    const offset = committed.get(key) ?? null;
    const lag = Number(BigInt(end) - BigInt(offset ?? '0'));
    return {
      topic,
      partition: Number(partition),
      committedOffset: offset,
      logEndOffset: end,
      lag: Math.max(0, lag),
    };
  });
  const service = serviceOfGroup(group.groupId, facts.replicas);
  const replicas = facts.replicas.filter((replica) => replica.service === service);
  return {
    groupId: group.groupId,
    service: group.groupId === facts.consoleGroup ? null : service,
    console: group.groupId === facts.consoleGroup,
    state: group.state,
    members: group.members.map((member) => ({
      memberId: member.memberId,
      clientId: member.clientId,
      host: member.clientHost,
      assignments: member.assignments,
    })),
    partitions,
    lag: partitions.reduce((sum, partition) => sum + partition.lag, 0),
    lagHistory: facts
      .lagHistory(group.groupId)
      .map((sample) => ({ at: new Date(sample.at).toISOString(), lag: sample.lag })),
    paused: replicas.some((replica) => replica.figures?.consumer.paused),
  };
}
