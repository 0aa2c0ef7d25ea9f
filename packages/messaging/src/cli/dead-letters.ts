import { parseArgs } from 'node:util';
import { createLogger } from '@shop/logging';
import { createKafka, type KafkaCredentials } from '../kafka';
import {
  deadLetterTopics,
  readDeadLetters,
  replayDeadLetters,
  type DeadLetter,
} from '../dead-letter-admin';

const USAGE = `Dead letters: messages a consumer gave up on, kept in <topic>.dlq.

  pnpm dlq list [--topic order-events] [--json]
  pnpm dlq replay --all [--topic order-events]
  pnpm dlq replay <id> [<id> ...]      (ids as printed by list: <dlq topic>:<partition>:<offset>)

Replay publishes each dead letter back onto its source topic, unchanged. Consumers are idempotent,
so replaying an event some service already handled has no second effect. Listing changes nothing;
a replayed dead letter stays listed until the topic's retention removes it.
Reads KAFKA_BROKERS (default localhost:9092) and authenticates as the operator principal, which may
read the dead-letter topics and write the source topics, nothing else: KAFKA_SASL_PASSWORD (required),
KAFKA_SASL_USERNAME (default operator), KAFKA_SASL_MECHANISM (default scram-sha-256).`;

const MECHANISMS = ['scram-sha-256', 'scram-sha-512'] as const;

/** An operator tool, not a service: its few variables are checked here, each by name. */
function operatorCredentials(env: NodeJS.ProcessEnv): KafkaCredentials {
  const mechanism = env.KAFKA_SASL_MECHANISM ?? 'scram-sha-256';
  const password = env.KAFKA_SASL_PASSWORD;
  if (!password)
    throw new Error("KAFKA_SASL_PASSWORD: required: the operator principal's password");
  if (!MECHANISMS.some((known) => known === mechanism)) {
    throw new Error(`KAFKA_SASL_MECHANISM: expected one of ${MECHANISMS.join(', ')}`);
  }
  return {
    mechanism: mechanism as KafkaCredentials['mechanism'],
    username: env.KAFKA_SASL_USERNAME || 'operator',
    password,
  };
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      topic: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...ids] = positionals;
  if (values.help || (command !== 'list' && command !== 'replay')) {
    process.stdout.write(`${USAGE}\n`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const brokers = (process.env.KAFKA_BROKERS ?? 'localhost:9092').split(',').map((b) => b.trim());
  const kafka = createKafka(
    { brokers, clientId: 'dead-letters-cli', sasl: operatorCredentials(process.env) },
    createLogger({ service: 'dead-letters-cli', level: 'error', format: 'pretty' }),
  );
  const letters = await readDeadLetters(kafka, await deadLetterTopics(kafka, values.topic));

  if (command === 'list') {
    process.stdout.write(
      values.json ? `${JSON.stringify(letters.map(toJson), null, 2)}\n` : table(letters),
    );
    return;
  }
  if (!values.all && ids.length === 0)
    throw new Error('replay needs --all or the ids of the dead letters to replay');
  const unknown = ids.filter((id) => !letters.some((letter) => letter.id === id));
  if (unknown.length > 0) throw new Error(`no such dead letter: ${unknown.join(', ')}`);
  const chosen = values.all ? letters : letters.filter((letter) => ids.includes(letter.id));
  const replayed = await replayDeadLetters(kafka, chosen);
  process.stdout.write(`replayed ${replayed} dead letter(s) onto their source topics\n`);
}

function toJson(letter: DeadLetter): Record<string, unknown> {
  const { key, value, headers: _headers, ...rest } = letter;
  return { ...rest, key: key?.toString() ?? null, value: value?.toString() ?? null };
}

function table(letters: readonly DeadLetter[]): string {
  if (letters.length === 0) return 'no dead letters\n';
  const rows = letters.map((letter) => [
    letter.id,
    age(letter.failedAt),
    letter.consumerGroup,
    letter.reason,
    String(letter.attempts),
    letter.eventType ?? '-',
    letter.error.replace(/\s+/g, ' ').slice(0, 80),
  ]);
  const header = ['ID', 'AGE', 'GROUP', 'REASON', 'ATTEMPTS', 'EVENT', 'ERROR'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n${letters.length} dead letter(s)\n`;
}

function age(since: Date): string {
  const seconds = Math.max(0, Math.round((Date.now() - since.getTime()) / 1_000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

main().catch((error: unknown) => {
  process.stderr.write(`dlq: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
