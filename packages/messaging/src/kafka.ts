import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@shop/logging';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
}

/**
 * kafkajs warnings that hold no news for this system: the partitioner is chosen explicitly, and the
 * relay bounds producer retries on purpose (a send must give up so shutdown is bounded; the rows
 * stay in the outbox and consumers are idempotent, so at-least-once is kept).
 */
const EXPECTED_WARNINGS = [
  'KafkaJS v2.0.0 switched default partitioner',
  'Limiting retries for the idempotent producer may invalidate EoS guarantees',
];

/**
 * Broker answers kafkajs logs as errors although it retries them itself: a broker that has just
 * started is still electing its group coordinator. Seen at every fresh start, never actionable.
 */
const RETRIED_BY_KAFKAJS = [
  'The group coordinator is not available',
  "The coordinator is loading and hence can't process requests",
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
];

/** The only place a kafkajs client is built: its log lines go through the service's logger. */
export function createKafka(options: KafkaConnectionOptions, logger: Logger): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...details } = log;
        const said = `${message} ${String(details.error)}`;
        const retried = RETRIED_BY_KAFKAJS.some((text) => said.includes(text));
        if (level <= logLevel.ERROR && !retried) kafkaLogger.error(details, message);
        else if (
          level === logLevel.WARN &&
          !EXPECTED_WARNINGS.some((text) => message.startsWith(text))
        ) {
          kafkaLogger.warn(details, message);
        } else kafkaLogger.debug(details, message);
      },
  });
}
