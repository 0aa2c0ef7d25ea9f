/**
 * Kafka topic names, defined once.
 * WARNING: renaming a topic is a breaking change for every producer and consumer;
 * add a new topic and migrate instead.
 */
export const Topics = {
  orderEvents: 'order-events',
  inventoryEvents: 'inventory-events',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly TopicName[] = Object.values(Topics);

/** Every topic is created with at least this many partitions; events are keyed by order id. */
export const TOPIC_PARTITIONS = 3;
