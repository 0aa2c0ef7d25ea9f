import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '@shop/logging';

export interface KafkaCredentials {
  mechanism: 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** kafkajs types each mechanism's options apart; both SCRAM variants take the same fields. */
function scram({ mechanism, username, password }: KafkaCredentials): SASLOptions {
  return mechanism === 'scram-sha-256'
    ? { mechanism, username, password }
    : { mechanism, username, password };
}

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  /** Every client authenticates: the brokers accept no anonymous connection. */
  sasl: KafkaCredentials;
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
    sasl: scram(options.sasl),
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
