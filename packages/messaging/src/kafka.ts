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
        if (level <= logLevel.ERROR) kafkaLogger.error(details, message);
        else if (
          level === logLevel.WARN &&
          !EXPECTED_WARNINGS.some((text) => message.startsWith(text))
        ) {
          kafkaLogger.warn(details, message);
        } else kafkaLogger.debug(details, message);
      },
  });
}
