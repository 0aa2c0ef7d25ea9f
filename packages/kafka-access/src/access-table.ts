import {
  ALL_TOPICS,
  DEAD_LETTER_RETENTION_MS,
  deadLetterTopic,
  TOPIC_PARTITIONS,
  Topics,
} from '@shop/contracts';

/** The super user: provisions topics and ACLs, runs the test tooling. Never given to a service. */
export const KAFKA_ADMIN = 'admin';

/** What one principal may do; everything not granted here is refused (no ACL, no access). */
export interface KafkaGrant {
  /** Topics it may publish to. */
  writes: readonly string[];
  /** Topics it may consume (and see the offsets of). */
  reads: readonly string[];
  /** Consumer groups it may join: every group whose id starts with one of these. */
  groupPrefixes: readonly string[];
  /** May delete its own groups once done with them (throwaway readers). */
  deletesOwnGroups?: true;
  /** May see every group's members and committed offsets (an observer, not a member). */
  describesAllGroups?: true;
}

const { orderEvents, inventoryEvents } = Topics;
const DEAD_LETTER_TOPICS = ALL_TOPICS.map(deadLetterTopic);

/**
 * Who may do what on Kafka: the one table that provisioning turns into SCRAM users and ACLs.
 * A consumer dead-letters into `<topic>.dlq` of the topic it reads, so it writes that one.
 */
export const KAFKA_ACCESS = {
  'order-service': {
    writes: [orderEvents, deadLetterTopic(inventoryEvents)],
    reads: [inventoryEvents],
    groupPrefixes: ['order-service'],
  },
  'inventory-service': {
    writes: [inventoryEvents, deadLetterTopic(orderEvents)],
    reads: [orderEvents],
    groupPrefixes: ['inventory-service'],
  },
  'notification-service': {
    writes: [deadLetterTopic(orderEvents)],
    reads: [orderEvents],
    groupPrefixes: ['notification-service'],
  },
  /** The flow console observes: reads every topic, joins only its own groups, writes nothing. */
  'flow-console': {
    writes: [],
    reads: [...ALL_TOPICS, ...DEAD_LETTER_TOPICS],
    groupPrefixes: ['flow-console'],
    describesAllGroups: true,
  },
  /** A person running `pnpm dlq`: reads dead letters, replays them onto their source topics. */
  operator: {
    writes: [...ALL_TOPICS],
    reads: DEAD_LETTER_TOPICS,
    groupPrefixes: ['dead-letter-reader-'],
    deletesOwnGroups: true,
  },
} as const satisfies Record<string, KafkaGrant>;

export type KafkaPrincipal = keyof typeof KAFKA_ACCESS;

export const KAFKA_PRINCIPALS = Object.keys(KAFKA_ACCESS) as KafkaPrincipal[];

export interface TopicSpec {
  name: string;
  partitions: number;
  config: Record<string, string>;
}

/** Every topic the system uses, as provisioning creates it (auto-creation is off). */
export const KAFKA_TOPICS: readonly TopicSpec[] = [
  ...ALL_TOPICS.map((name) => ({ name, partitions: TOPIC_PARTITIONS, config: {} })),
  ...DEAD_LETTER_TOPICS.map((name) => ({
    name,
    partitions: TOPIC_PARTITIONS,
    config: { 'retention.ms': String(DEAD_LETTER_RETENTION_MS) },
  })),
];

/** The topics a principal touches, which must exist before it starts. */
export function topicsOf(principal: KafkaPrincipal): string[] {
  const grant: KafkaGrant = KAFKA_ACCESS[principal];
  return [...new Set([...grant.writes, ...grant.reads])];
}
