/**
 * What the console shows, as JSON: the pages render exactly this, and scripts and tests read the
 * same documents from /api (described in /docs).
 */
import type { ConsumerFigures } from '@shop/messaging';

/** A replica's consumer as its transport reports it. */
export type ConsumerState = ConsumerFigures;

export interface ReplicaView {
  replica: string;
  url: string;
  reachable: boolean;
  consumer: ConsumerState | null;
}

export interface ServiceView {
  name: string;
  replicas: ReplicaView[];
  /** Event types this service publishes (from the contracts). */
  produces: string[];
  /** Event types this service handles (from the contracts). */
  consumes: string[];
  paused: boolean;
  outbox: { backlog: number; oldestUnsentAgeMs: number | null } | null;
  /** Service-specific figures, e.g. { emailsPending, emailsFailed }. */
  figures: Record<string, number>;
  retrying: number;
}

export interface PartitionView {
  partition: number;
  /** The offset the next record will get: how many records the partition has ever held. */
  logEndOffset: string;
}

export interface TopicView {
  name: string;
  deadLetter: boolean;
  partitions: PartitionView[];
  producers: string[];
  consumerGroups: string[];
  /** For a dead-letter topic: its records as the console's own group saw them. */
  deadLetters: {
    count: number;
    latest: { reason: string; error: string; group: string; at: string } | null;
  } | null;
}

export interface MemberView {
  memberId: string;
  clientId: string;
  host: string;
  assignments: Array<{ topic: string; partitions: number[] }>;
}

export interface GroupPartitionView {
  topic: string;
  partition: number;
  committedOffset: string | null;
  logEndOffset: string;
  lag: number;
}

export interface GroupView {
  groupId: string;
  /** The service whose consumers form this group, or null (the console's own group, a tool's). */
  service: string | null;
  /** The console's own group: it reads everything and changes nothing. */
  console: boolean;
  state: string;
  members: MemberView[];
  partitions: GroupPartitionView[];
  lag: number;
  /** Total lag, sampled about once a second, oldest first (the last two minutes). */
  lagHistory: Array<{ at: string; lag: number }>;
  paused: boolean;
}

export interface Overview {
  generatedAt: string;
  services: ServiceView[];
  topics: TopicView[];
  groups: GroupView[];
}

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';

export interface RecentOrder {
  orderId: string;
  customerEmail: string | null;
  /** The latest status its events announce. */
  status: OrderStatus;
  placedAt: string;
}

export type StepKind =
  | 'accepted'
  | 'status'
  | 'outbox-committed'
  | 'published'
  | 'fetched'
  | 'handled'
  | 'skipped'
  | 'committed'
  | 'retrying'
  | 'dead-lettered'
  | 'email-sent'
  | 'email-failed'
  | 'seen';

export interface JourneyStep {
  /** Stable across updates, so a page can animate new steps only. */
  id: string;
  /** 'business' or the name of the service (or consumer group) the step happened in. */
  lane: string;
  kind: StepKind;
  label: string;
  at: string;
  sinceStartMs: number;
  sincePreviousMs: number | null;
  replica: string | null;
  event: {
    eventId: string;
    type: string;
    topic: string;
    partition: number | null;
    offset: string | null;
  } | null;
  detail: string | null;
  /** Retries and dead letters: off the main path. */
  branch: boolean;
}

export interface Journey {
  orderId: string;
  status: OrderStatus | null;
  customerEmail: string | null;
  startedAt: string | null;
  /** Final status reached and its email sent (or nothing more expected). */
  complete: boolean;
  lanes: string[];
  steps: JourneyStep[];
  /** Facts that could not be read (a service down): the journey is shown without them. */
  missing: string[];
  /** The order's trace (the traceparent its records carry), and where a trace UI shows it. */
  traceId: string | null;
  traceUrl: string | null;
}

export interface SampleOrderResult {
  status: number;
  orderId: string | null;
  acceptedInMs: number;
  body: unknown;
}
