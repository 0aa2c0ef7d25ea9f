import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@shop/logging';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
}

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
        else if (level === logLevel.WARN) kafkaLogger.warn(details, message);
        else kafkaLogger.debug(details, message);
      },
  });
}
