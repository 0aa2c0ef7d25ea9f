import type { ObservedDeadLetter, ObservedEvent } from '../observer/observed';
import type { ServiceOrderFacts } from '../services/service-directory';
import { assembleJourney, type JourneyFacts } from './assemble-journey';

const ORDER = '0b6f3c1e-0000-4000-8000-000000000001';
const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function event(
  type: string,
  topic: string,
  offset: string,
  ms: number,
  id = `${type}-id`,
): ObservedEvent {
  return {
    topic,
    partition: 1,
    offset,
    kafkaTimestamp: T0 + ms,
    seenAt: T0 + ms + 1,
    eventId: id,
    eventType: type,
    correlationId: ORDER,
    customerEmail: 'ada@example.com',
    traceId: null,
  };
}

function facts(service: string, parts: Partial<ServiceOrderFacts>): ServiceOrderFacts {
  return {
    group: service,
    replica: `${service}#1`,
    handled: [],
    outbox: [],
    records: {},
    ...parts,
  };
}

const placed = event('OrderPlaced', 'order-events', '40', 3);
const reserved = event('StockReserved', 'inventory-events', '7', 12);
const confirmed = event('OrderConfirmed', 'order-events', '41', 20);

/** A confirmed order whose email went out, every group past every record. */
function happyFacts(overrides: Partial<JourneyFacts> = {}): JourneyFacts {
  return {
    orderId: ORDER,
    consoleGroup: 'flow-console',
    traceUiUrl: null,
    events: [placed, reserved, confirmed],
    deadLetters: [],
    services: {
      'order-service': facts('order-service', {
        records: {
          order: {
            status: 'CONFIRMED',
            customerEmail: 'ada@example.com',
            createdAt: at(0),
            updatedAt: at(15),
          },
        },
        outbox: [
          {
            eventId: placed.eventId,
            eventType: 'OrderPlaced',
            topic: 'order-events',
            createdAt: at(0),
            sentAt: at(4),
            sentBy: 'order#1',
          },
          {
            eventId: confirmed.eventId,
            eventType: 'OrderConfirmed',
            topic: 'order-events',
            createdAt: at(15),
            sentAt: at(21),
            sentBy: 'order#1',
          },
        ],
        handled: [
          {
            eventId: reserved.eventId,
            eventType: 'StockReserved',
            topic: 'inventory-events',
            partition: 1,
            offset: '7',
            handledBy: 'order#1',
            fetchedAt: at(14),
            handledAt: at(15),
          },
        ],
      }),
      'inventory-service': facts('inventory-service', {
        outbox: [
          {
            eventId: reserved.eventId,
            eventType: 'StockReserved',
            topic: 'inventory-events',
            createdAt: at(10),
            sentAt: at(13),
            sentBy: 'inventory#2',
          },
        ],
        handled: [
          {
            eventId: placed.eventId,
            eventType: 'OrderPlaced',
            topic: 'order-events',
            partition: 1,
            offset: '40',
            handledBy: 'inventory#2',
            fetchedAt: at(5),
            handledAt: at(10),
          },
        ],
      }),
      'notification-service': facts('notification-service', {
        handled: [
          {
            eventId: confirmed.eventId,
            eventType: 'OrderConfirmed',
            topic: 'order-events',
            partition: 1,
            offset: '41',
            handledBy: 'notification#1',
            fetchedAt: null,
            handledAt: at(25),
          },
        ],
        records: {
          notifications: [
            {
              type: 'ORDER_CONFIRMED',
              status: 'SENT',
              recipient: 'ada@example.com',
              attempts: 1,
              createdAt: at(25),
              sentAt: at(40),
              lastError: null,
            },
          ],
        },
      }),
    },
    groups: [
      { groupId: 'order-service', service: 'order-service', topics: ['inventory-events'] },
      { groupId: 'inventory-service', service: 'inventory-service', topics: ['order-events'] },
      {
        groupId: 'notification-service',
        service: 'notification-service',
        topics: ['order-events'],
      },
      { groupId: 'flow-console', service: null, topics: ['order-events', 'inventory-events'] },
    ],
    retries: [],
    passedAt: () => T0 + 30,
    ...overrides,
  };
}

describe('assembleJourney', () => {
  it('puts the 202 first and the email last on the business lane, with times since the request', () => {
    const journey = assembleJourney(happyFacts());
    const business = journey.steps.filter((step) => step.lane === 'business');
    expect(business.map((step) => step.label)).toEqual([
      '202 Accepted · PENDING',
      'stock reserved',
      'CONFIRMED',
      'email sent ✉ ORDER_CONFIRMED',
    ]);
    expect(business.at(-1)?.sinceStartMs).toBe(40);
    expect(journey).toMatchObject({ status: 'CONFIRMED', complete: true, missing: [] });
  });

  it('places each published event on the partition and offset Kafka gave it, with the replica that sent it', () => {
    const journey = assembleJourney(happyFacts());
    const published = journey.steps.find((step) => step.id === `published:${placed.eventId}`);
    expect(published).toMatchObject({
      lane: 'order-service',
      replica: 'order#1',
      sinceStartMs: 3,
      event: { topic: 'order-events', partition: 1, offset: '40', type: 'OrderPlaced' },
    });
  });

  it('shows when a replica had an event in hand, before its handler committed the effect', () => {
    const journey = assembleJourney(happyFacts());
    const inventory = journey.steps.filter((step) => step.lane === 'inventory-service');
    const fetched = inventory.find((step) => step.kind === 'fetched');
    expect(fetched).toMatchObject({ replica: 'inventory#2', sinceStartMs: 5 });
    expect(inventory.indexOf(fetched!)).toBeLessThan(
      inventory.findIndex((step) => step.kind === 'handled'),
    );
    // Recorded before fetch times were kept: no fetched step is made up.
    expect(
      journey.steps.some((step) => step.lane === 'notification-service' && step.kind === 'fetched'),
    ).toBe(false);
  });

  it('shows a group without a handler for an event as having read and skipped it', () => {
    const journey = assembleJourney(happyFacts());
    const skipped = journey.steps.filter((step) => step.kind === 'skipped');
    expect(skipped.map((step) => `${step.lane} ${step.event?.type}`).sort()).toEqual([
      'inventory-service OrderConfirmed',
      'notification-service OrderPlaced',
    ]);
    const handled = journey.steps.filter((step) => step.kind === 'handled');
    expect(handled.map((step) => `${step.lane} ${step.replica}`).sort()).toEqual([
      'inventory-service inventory#2',
      'notification-service notification#1',
      'order-service order#1',
    ]);
  });

  it('keeps the Kafka time of publication when the relay marks the row sent after the consumer began', () => {
    const late = happyFacts();
    const order = late.services['order-service']!;
    order.outbox[0] = { ...order.outbox[0]!, sentAt: at(30) };
    const journey = assembleJourney(late);
    const published = journey.steps.find((step) => step.id === `published:${placed.eventId}`)!;
    const handled = journey.steps.find(
      (step) => step.kind === 'handled' && step.lane === 'inventory-service',
    )!;
    expect(published.sinceStartMs).toBe(3);
    expect(published.sinceStartMs).toBeLessThan(handled.sinceStartMs);
    expect(published.detail).toContain('27 ms after Kafka stamped the record');
  });

  it('still assembles what it can when a service cannot be asked, and names what is missing', () => {
    const journey = assembleJourney(
      happyFacts({ services: { ...happyFacts().services, 'notification-service': null } }),
    );
    expect(journey.missing).toEqual(['notification-service: its facts could not be read']);
    expect(journey.complete).toBe(false);
    expect(journey.steps.some((step) => step.kind === 'email-sent')).toBe(false);
    expect(journey.steps.some((step) => step.kind === 'published')).toBe(true);
  });

  it('shows a redelivered record once per place it was read from, handled once', () => {
    const again = { ...placed, offset: '52', kafkaTimestamp: T0 + 50, seenAt: T0 + 51 };
    const journey = assembleJourney(happyFacts({ events: [placed, again, reserved, confirmed] }));
    const inventory = journey.steps.filter((step) => step.lane === 'inventory-service');
    expect(inventory.filter((step) => step.kind === 'handled')).toHaveLength(2);
    expect(
      journey.steps.filter((step) => step.kind === 'seen' && step.event?.type === 'OrderPlaced'),
    ).toHaveLength(2);
  });

  it('draws a dead letter and a retry as branches of the group that gave up or is retrying', () => {
    const letter: ObservedDeadLetter = {
      topic: 'order-events.dlq',
      partition: 0,
      offset: '3',
      seenAt: T0 + 60,
      eventId: confirmed.eventId,
      eventType: 'OrderConfirmed',
      correlationId: ORDER,
      reason: 'handler-failed',
      error: 'Error: SMTP template broken',
      group: 'notification-service',
      attempts: 5,
      originalTopic: 'order-events',
      originalPartition: 1,
      originalOffset: '41',
      failedAt: T0 + 55,
    };
    const journey = assembleJourney(
      happyFacts({
        deadLetters: [letter],
        retries: [
          {
            service: 'inventory-service',
            replica: 'inventory#2',
            topic: 'order-events',
            partition: 1,
            offset: '40',
            attempts: 2,
            since: T0 + 5,
          },
        ],
      }),
    );
    const branches = journey.steps.filter((step) => step.branch);
    expect(branches.map((step) => [step.lane, step.kind])).toEqual([
      ['inventory-service', 'retrying'],
      ['notification-service', 'dead-lettered'],
    ]);
    expect(branches[1]?.detail).toContain('handler-failed after 5 attempt(s)');
  });

  it('follows the group that owns a partition after a rebalance: the replica is the one that handled it', () => {
    const rebalanced = happyFacts();
    rebalanced.services['inventory-service']!.handled[0]!.handledBy = 'inventory#1';
    const journey = assembleJourney(rebalanced);
    const handled = journey.steps.find(
      (step) => step.kind === 'handled' && step.lane === 'inventory-service',
    );
    expect(handled?.replica).toBe('inventory#1');
  });

  it('is not complete while a group has not committed past one of its records', () => {
    const journey = assembleJourney(
      happyFacts({ passedAt: (group) => (group === 'notification-service' ? null : T0 + 30) }),
    );
    expect(journey.complete).toBe(false);
    expect(
      journey.steps.some(
        (step) => step.lane === 'notification-service' && step.kind === 'committed',
      ),
    ).toBe(false);
  });

  it('shows what Kafka saw when no service answers and the order row is unknown', () => {
    const journey = assembleJourney(
      happyFacts({
        services: {
          'order-service': null,
          'inventory-service': null,
          'notification-service': null,
        },
      }),
    );
    expect(journey.status).toBe('CONFIRMED');
    expect(journey.steps.filter((step) => step.kind === 'published')).toHaveLength(3);
    expect(journey.missing).toHaveLength(3);
  });

  it('names the trace its records carry and links to it when a trace UI is configured', () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const traced = happyFacts({
      events: [{ ...placed, traceId }, reserved, confirmed],
      traceUiUrl: 'http://localhost:9411/zipkin/',
    });
    expect(assembleJourney(traced)).toMatchObject({
      traceId,
      traceUrl: `http://localhost:9411/zipkin/traces/${traceId}`,
    });
    expect(assembleJourney({ ...traced, traceUiUrl: null })).toMatchObject({
      traceId,
      traceUrl: null,
    });
    expect(assembleJourney(happyFacts())).toMatchObject({ traceId: null, traceUrl: null });
  });
});
