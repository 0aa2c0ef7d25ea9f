import {
  OrderCancelled,
  OrderConfirmed,
  OrderPlaced,
  OrderRejected,
  StockReleased,
  StockReservationRejected,
  StockReserved,
  type EventContract,
} from '@shop/contracts';
import type { OrderStatus } from './views/view-models';

export interface ServiceRole {
  name: ServiceName;
  produces: readonly EventContract[];
  consumes: readonly EventContract[];
}

export type ServiceName = 'order-service' | 'inventory-service' | 'notification-service';

/**
 * Who publishes and who handles each event, as the services are written (the README's event
 * table). The console draws the map from it; what moves on the map comes from Kafka.
 */
export const SERVICE_ROLES: readonly ServiceRole[] = [
  {
    name: 'order-service',
    produces: [OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled],
    consumes: [StockReserved, StockReservationRejected],
  },
  {
    name: 'inventory-service',
    produces: [StockReserved, StockReservationRejected, StockReleased],
    consumes: [OrderPlaced, OrderCancelled],
  },
  {
    name: 'notification-service',
    produces: [],
    consumes: [OrderConfirmed, OrderRejected, OrderCancelled],
  },
];

export const SERVICE_NAMES: readonly ServiceName[] = SERVICE_ROLES.map((role) => role.name);

export function roleOf(service: string): ServiceRole | undefined {
  return SERVICE_ROLES.find((role) => role.name === service);
}

/** The service that publishes to a topic. */
export function producerOf(topic: string): ServiceName | undefined {
  return SERVICE_ROLES.find((role) => role.produces.some((event) => event.topic === topic))?.name;
}

/** Whether the service has a handler for the event type; the others read it and skip it. */
export function handles(service: string, eventType: string): boolean {
  return roleOf(service)?.consumes.some((event) => event.type === eventType) ?? false;
}

/**
 * The service whose replicas form a consumer group: as the replicas report it (tests and
 * deployments may rename groups), else by the default group id, the service's name.
 */
export function serviceOfGroup(
  groupId: string,
  replicas: ReadonlyArray<{ service: ServiceName; figures: { group: string } | null }>,
): ServiceName | null {
  const reported = replicas.find((replica) => replica.figures?.group === groupId)?.service;
  return reported ?? SERVICE_NAMES.find((name) => name === groupId) ?? null;
}

const STATUS_ANNOUNCED_BY: Readonly<Record<string, OrderStatus>> = {
  [OrderPlaced.type]: 'PENDING',
  [OrderConfirmed.type]: 'CONFIRMED',
  [OrderRejected.type]: 'REJECTED',
  [OrderCancelled.type]: 'CANCELLED',
};

/** The order status an event announces, for the order events that announce one. */
export function statusAnnouncedBy(eventType: string): OrderStatus | undefined {
  return STATUS_ANNOUNCED_BY[eventType];
}
