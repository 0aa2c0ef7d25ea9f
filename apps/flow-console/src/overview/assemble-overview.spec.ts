import type { ClusterSnapshot } from '@shop/messaging';
import type { ReplicaState } from '../services/service-directory';
import { assembleOverview, type OverviewFacts } from './assemble-overview';

const snapshot: ClusterSnapshot = {
  takenAt: Date.parse('2026-11-29T10:00:00Z'),
  topics: [
    {
      topic: 'order-events',
      partitions: [
        { partition: 0, high: '10' },
        { partition: 1, high: '4' },
      ],
    },
    { topic: 'order-events.dlq', partitions: [{ partition: 0, high: '1' }] },
  ],
  groups: [
    {
      groupId: 'inventory-service',
      state: 'Stable',
      members: [
        {
          memberId: 'm1',
          clientId: 'inventory-service',
          clientHost: '/10.0.0.2',
          assignments: [{ topic: 'order-events', partitions: [0] }],
        },
        {
          memberId: 'm2',
          clientId: 'inventory-service',
          clientHost: '/10.0.0.3',
          assignments: [{ topic: 'order-events', partitions: [1] }],
        },
      ],
      committed: [
        { topic: 'order-events', partition: 0, offset: '7' },
        { topic: 'order-events', partition: 1, offset: '4' },
      ],
    },
  ],
};

function replica(service: string, paused: boolean, backlog: number): ReplicaState {
  return {
    service: service as ReplicaState['service'],
    url: 'http://10.0.0.2:3001',
    error: null,
    figures: {
      group: service,
      replica: `${service}#1`,
      consumer: {
        state: 'joined',
        paused,
        retrying: 0,
        retries: [],
        deadLettered: 0,
        lastDeadLetter: null,
      },
      outbox: { backlog, oldestUnsentAgeMs: backlog ? 1200 : null },
      figures: {},
    },
  };
}

function overviewFacts(overrides: Partial<OverviewFacts> = {}): OverviewFacts {
  return {
    now: snapshot.takenAt,
    snapshot,
    consoleGroup: 'flow-console',
    replicas: [replica('inventory-service', true, 12)],
    deadLetters: () => undefined,
    lagHistory: () => [{ at: snapshot.takenAt, lag: 3 }],
    ...overrides,
  };
}

describe('assembleOverview', () => {
  it('gives each group its lag per partition, from the log end and its committed offset', () => {
    const [group] = assembleOverview(overviewFacts()).groups;
    expect(group?.partitions.map((p) => [p.partition, p.lag])).toEqual([
      [0, 3],
      [1, 0],
    ]);
    expect(group).toMatchObject({ lag: 3, service: 'inventory-service', paused: true });
    expect(group?.members.map((m) => m.assignments[0]?.partitions)).toEqual([[0], [1]]);
  });

  it('names producers and reading groups of each topic, and counts dead letters apart', () => {
    const overview = assembleOverview(
      overviewFacts({
        deadLetters: (topic) =>
          topic === 'order-events.dlq'
            ? {
                count: 1,
                latest: {
                  topic,
                  partition: 0,
                  offset: '0',
                  seenAt: 0,
                  eventId: null,
                  eventType: null,
                  correlationId: null,
                  reason: 'invalid-event',
                  error: 'not JSON',
                  group: 'inventory-service',
                  attempts: 1,
                  originalTopic: 'order-events',
                  originalPartition: 0,
                  originalOffset: '3',
                  failedAt: 0,
                },
              }
            : undefined,
      }),
    );
    const [events, letters] = overview.topics;
    expect(events).toMatchObject({
      producers: ['order-service'],
      consumerGroups: ['inventory-service'],
      deadLetters: null,
    });
    expect(letters?.deadLetters).toMatchObject({
      count: 1,
      latest: { reason: 'invalid-event', error: 'not JSON' },
    });
  });

  it('shows a service paused when any replica is, with its outbox backlog', () => {
    const inventory = assembleOverview(overviewFacts()).services.find(
      (s) => s.name === 'inventory-service',
    );
    expect(inventory).toMatchObject({
      paused: true,
      outbox: { backlog: 12, oldestUnsentAgeMs: 1200 },
    });
    const notification = assembleOverview(overviewFacts()).services.find(
      (s) => s.name === 'notification-service',
    );
    expect(notification).toMatchObject({ replicas: [], paused: false, outbox: null });
  });

  it('shows an empty map, not an error, before the first snapshot', () => {
    expect(assembleOverview(overviewFacts({ snapshot: null }))).toMatchObject({
      topics: [],
      groups: [],
    });
  });
});
