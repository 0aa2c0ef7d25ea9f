import { z } from 'zod';
import type { ObservedDeadLetter, ObservedEvent } from '../observer/observed';
import type { ServiceOrderFacts } from '../services/service-directory';
import { handles, producerOf, SERVICE_NAMES, statusAnnouncedBy } from '../topology';
import type { Journey, JourneyStep, OrderStatus, StepKind } from '../views/view-models';

/** A consumer group reading one of the order's topics, and the service it belongs to. */
export interface GroupOnTopic {
  groupId: string;
  service: string | null;
  topics: readonly string[];
}

/** A message a replica is retrying now, as its figures say. */
export interface RetryFact {
  service: string;
  replica: string;
  topic: string;
  partition: number;
  offset: string;
  attempts: number;
  since: number;
}

/** Everything known about one order, from Kafka and from each service: the journey's raw facts. */
export interface JourneyFacts {
  orderId: string;
  consoleGroup: string;
  events: readonly ObservedEvent[];
  deadLetters: readonly ObservedDeadLetter[];
  /** Per service; null when the service could not be asked. */
  services: Readonly<Record<string, ServiceOrderFacts | null>>;
  groups: readonly GroupOnTopic[];
  retries: readonly RetryFact[];
  /** A Zipkin-style UI showing a trace at <traceUiUrl>/traces/<traceId>; null without one. */
  traceUiUrl: string | null;
  passedAt(groupId: string, topic: string, partition: number, offset: string): number | null;
}

const orderRecordSchema = z.object({
  order: z
    .object({
      status: z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED']),
      customerEmail: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      rejectionReason: z.string().nullish(),
    })
    .nullable(),
});

const notificationRecordsSchema = z.object({
  notifications: z.array(
    z.object({
      type: z.string(),
      status: z.enum(['PENDING', 'SENT', 'FAILED']),
      recipient: z.string(),
      attempts: z.number(),
      createdAt: z.string(),
      sentAt: z.string().nullable(),
      lastError: z.string().nullable(),
    }),
  ),
});

const FINAL_EMAIL: Partial<Record<OrderStatus, string>> = {
  CONFIRMED: 'ORDER_CONFIRMED',
  REJECTED: 'ORDER_REJECTED',
  CANCELLED: 'ORDER_CANCELLED',
};

const BUSINESS_STEP: Record<string, string> = {
  StockReserved: 'stock reserved',
  StockReservationRejected: 'stock refused',
  StockReleased: 'stock released',
  OrderConfirmed: 'CONFIRMED',
  OrderRejected: 'REJECTED',
  OrderCancelled: 'CANCELLED',
};

type DraftStep = Omit<JourneyStep, 'sinceStartMs' | 'sincePreviousMs' | 'at'> & { at: number };

/**
 * One order's journey from the facts: what the business saw (202, status changes, the email) and
 * how Kafka carried it (outbox row, record on a partition, each group handling or skipping it and
 * committing past it). Pure: the same facts give the same journey, whatever is missing.
 */
export function assembleJourney(facts: JourneyFacts): Journey {
  const steps: DraftStep[] = [];
  const missing = SERVICE_NAMES.filter((service) => !facts.services[service]).map(
    (service) => `${service}: its facts could not be read`,
  );
  const orderFacts = facts.services['order-service'];
  const orderRecord = orderRecordSchema.safeParse(orderFacts?.records ?? {});
  const order = orderRecord.success ? orderRecord.data.order : null;
  const byEventId = new Map(facts.events.map((event) => [event.eventId, event]));

  if (order) {
    steps.push({
      ...base('accepted', 'business', 'accepted'),
      label: '202 Accepted · PENDING',
      at: Date.parse(order.createdAt),
      detail: 'The order row and its OrderPlaced outbox row committed in one transaction.',
    });
  }

  const published = new Set<string>();
  for (const service of SERVICE_NAMES) {
    for (const row of facts.services[service]?.outbox ?? []) {
      const seen = byEventId.get(row.eventId);
      const where = seen
        ? eventRef(seen)
        : { ...unplaced(row.eventType, row.topic), eventId: row.eventId };
      steps.push({
        ...base(`outbox:${row.eventId}`, service, 'outbox-committed'),
        label: `${row.eventType} → outbox`,
        at: Date.parse(row.createdAt),
        event: where,
        detail: 'Written in the same transaction as the change it announces.',
      });
      const business = BUSINESS_STEP[row.eventType];
      if (business !== undefined) {
        steps.push({
          ...base(`business:${row.eventId}`, 'business', 'status'),
          label: business,
          at: Date.parse(row.createdAt),
          replica: null,
          event: where,
        });
      }
      if (seen || row.sentAt) {
        published.add(row.eventId);
        const sentAt = row.sentAt ? Date.parse(row.sentAt) : null;
        const at = seen?.kafkaTimestamp ?? sentAt ?? Date.parse(row.createdAt);
        steps.push({
          ...base(`published:${row.eventId}`, service, 'published'),
          label: seen
            ? `→ ${seen.topic} · p${seen.partition} · @${seen.offset}`
            : `→ ${row.topic} (not yet seen on Kafka)`,
          at,
          replica: row.sentBy,
          event: where,
          detail:
            sentAt === null
              ? 'On Kafka; the outbox row is not marked sent yet.'
              : `Outbox row marked sent ${sentAt - at} ms after Kafka stamped the record.`,
        });
      }
    }
  }

  for (const event of facts.events) {
    const ref = eventRef(event);
    if (!published.has(event.eventId)) {
      // Its outbox row is gone (kept an hour) or never existed (a replay, a test's producer).
      steps.push({
        ...base(`published:${event.eventId}`, producerOf(event.topic) ?? 'business', 'published'),
        label: `${event.eventType} → ${event.topic} · p${event.partition} · @${event.offset}`,
        at: event.kafkaTimestamp,
        event: ref,
      });
    }
    steps.push({
      ...base(`seen:${event.eventId}:${event.offset}`, facts.consoleGroup, 'seen'),
      label: `read ${event.eventType} @${event.offset}`,
      at: event.seenAt,
      event: ref,
      detail: 'The console reads every record in a group of its own, and changes nothing.',
    });
    for (const group of facts.groups) {
      if (group.groupId === facts.consoleGroup || !group.topics.includes(event.topic)) continue;
      steps.push(...groupSteps(facts, event, group));
    }
  }

  const notifications = notificationRecordsSchema.safeParse(
    facts.services['notification-service']?.records ?? {},
  );
  const emails = notifications.success ? notifications.data.notifications : [];
  for (const email of emails) {
    if (email.status === 'SENT' && email.sentAt) {
      steps.push({
        ...base(`email:${email.type}`, 'business', 'email-sent'),
        label: `email sent ✉ ${email.type}`,
        at: Date.parse(email.sentAt),
        detail: `To ${email.recipient}; accepted by the SMTP server after ${email.attempts} attempt(s).`,
      });
    } else if (email.lastError) {
      steps.push({
        ...base(`email:${email.type}`, 'notification-service', 'email-failed'),
        label: `email ${email.status === 'FAILED' ? 'failed' : 'retrying'}: ${email.type}`,
        at: Date.parse(email.createdAt),
        detail: email.lastError,
        branch: true,
      });
    }
  }

  const status = order?.status ?? latestStatus(facts.events);
  const ordered = finish(steps);
  const wantedEmail = status ? FINAL_EMAIL[status] : undefined;
  const everyGroupPassed = facts.events.every((event) =>
    facts.groups
      .filter((group) => group.topics.includes(event.topic))
      .every(
        (group) =>
          facts.passedAt(group.groupId, event.topic, event.partition, event.offset) !== null,
      ),
  );
  return {
    orderId: facts.orderId,
    status,
    customerEmail:
      order?.customerEmail ?? facts.events.find((e) => e.customerEmail)?.customerEmail ?? null,
    startedAt: ordered[0]?.at ?? null,
    complete:
      wantedEmail !== undefined &&
      emails.some((email) => email.type === wantedEmail && email.status === 'SENT') &&
      everyGroupPassed,
    lanes: lanesOf(ordered, facts.consoleGroup),
    steps: ordered,
    missing,
    ...traceOf(facts),
  };
}

/** Every record of an order carries the trace its POST started; the first one traced names it. */
function traceOf(facts: JourneyFacts): Pick<Journey, 'traceId' | 'traceUrl'> {
  const traceId = facts.events.find((event) => event.traceId)?.traceId ?? null;
  const base = facts.traceUiUrl?.replace(/\/+$/, '');
  return { traceId, traceUrl: traceId && base ? `${base}/traces/${traceId}` : null };
}

function groupSteps(facts: JourneyFacts, event: ObservedEvent, group: GroupOnTopic): DraftStep[] {
  const lane = group.service ?? group.groupId;
  const ref = eventRef(event);
  const steps: DraftStep[] = [];
  const handled = group.service
    ? facts.services[group.service]?.handled.find((fact) => fact.eventId === event.eventId)
    : undefined;
  const passedAt = facts.passedAt(group.groupId, event.topic, event.partition, event.offset);
  const id = `${group.groupId}:${event.eventId}:${event.offset}`;
  if (handled?.fetchedAt) {
    steps.push({
      ...base(`fetched:${id}`, lane, 'fetched'),
      label: `fetched ${event.eventType} @${event.offset}`,
      at: Date.parse(handled.fetchedAt),
      replica: handled.handledBy,
      event: ref,
      detail: 'Its batch reached this replica; the next step is its handler committing the effect.',
    });
  }
  if (handled) {
    steps.push({
      ...base(`handled:${id}`, lane, 'handled'),
      label: `handled ${event.eventType}`,
      at: Date.parse(handled.handledAt),
      replica: handled.handledBy,
      event: ref,
      detail: 'Its effect and the event id committed in one transaction (idempotent consumer).',
    });
  }
  for (const retry of facts.retries) {
    if (retry.service !== group.service || !sameRecord(retry, event)) continue;
    steps.push({
      ...base(`retrying:${id}:${retry.replica}`, lane, 'retrying'),
      label: `retrying ${event.eventType} (${retry.attempts} failed)`,
      at: retry.since,
      replica: retry.replica,
      event: ref,
      detail: 'Its partition is paused and the same message is fetched again after a backoff.',
      branch: true,
    });
  }
  for (const letter of facts.deadLetters) {
    if (letter.group !== group.groupId || !sameOrigin(letter, event)) continue;
    steps.push({
      ...base(`dead-lettered:${id}:${letter.offset}`, lane, 'dead-lettered'),
      label: `dead-lettered → ${letter.topic} @${letter.offset}`,
      at: letter.failedAt,
      event: ref,
      detail: `${letter.reason} after ${letter.attempts} attempt(s): ${letter.error}`,
      branch: true,
    });
  }
  if (passedAt !== null) {
    const skipped = !handled && group.service !== null && !handles(group.service, event.eventType);
    steps.push({
      ...base(`committed:${id}`, lane, skipped ? 'skipped' : 'committed'),
      label: skipped
        ? `${event.eventType} read & skipped · offset committed`
        : `offset committed past @${event.offset}`,
      // First seen by a poll; never drawn before the handling it follows.
      at: Math.max(passedAt, handled ? Date.parse(handled.handledAt) : passedAt),
      event: ref,
      detail: skipped
        ? `${group.groupId} has no handler for ${event.eventType}: it reads it and moves on.`
        : `${group.groupId} will not read this record again (first seen by the console's poll).`,
    });
  }
  return steps;
}

/** The business first, then the services in flow order, other groups, and the console last. */
function lanesOf(steps: readonly JourneyStep[], consoleGroup: string): string[] {
  const others = [...new Set(steps.map((step) => step.lane))].filter(
    (lane) =>
      lane !== 'business' && lane !== consoleGroup && !SERVICE_NAMES.includes(lane as never),
  );
  return ['business', ...SERVICE_NAMES, ...others, consoleGroup];
}

function base(id: string, lane: string, kind: StepKind): Omit<DraftStep, 'label' | 'at'> {
  return { id, lane, kind, replica: null, event: null, detail: null, branch: false };
}

function eventRef(event: ObservedEvent): NonNullable<JourneyStep['event']> {
  return {
    eventId: event.eventId,
    type: event.eventType,
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
  };
}

function unplaced(type: string, topic: string): Omit<NonNullable<JourneyStep['event']>, 'eventId'> {
  return { type, topic, partition: null, offset: null };
}

function sameRecord(
  retry: { topic: string; partition: number; offset: string },
  event: ObservedEvent,
): boolean {
  return (
    retry.topic === event.topic &&
    retry.partition === event.partition &&
    retry.offset === event.offset
  );
}

function sameOrigin(letter: ObservedDeadLetter, event: ObservedEvent): boolean {
  return (
    letter.eventId === event.eventId ||
    (letter.originalTopic === event.topic &&
      letter.originalPartition === event.partition &&
      letter.originalOffset === event.offset)
  );
}

function latestStatus(events: readonly ObservedEvent[]): OrderStatus | null {
  const announced = events.flatMap((event) => statusAnnouncedBy(event.eventType) ?? []);
  return announced.at(-1) ?? null;
}

/** Time order (ties keep the order facts were added in), with times since start and since the previous step. */
function finish(steps: DraftStep[]): JourneyStep[] {
  const valid = steps.filter((step) => Number.isFinite(step.at));
  const sorted = valid
    .map((step, index) => ({ step, index }))
    .sort((a, b) => a.step.at - b.step.at || a.index - b.index)
    .map(({ step }) => step);
  const start = sorted[0]?.at ?? 0;
  return sorted.map((step, index) => {
    const previous = sorted[index - 1];
    return {
      ...step,
      at: new Date(step.at).toISOString(),
      sinceStartMs: step.at - start,
      sincePreviousMs: previous ? step.at - previous.at : null,
    };
  });
}
