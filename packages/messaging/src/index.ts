export * from './kafka';
export * from './topics';
export * from './event-publisher';
export * from './outbox/outbox-record';
export * from './outbox/outbox-relay';
export * from './consumer/on-event.decorator';
export * from './consumer/retry';
export * from './consumer/kafka-event-server';
