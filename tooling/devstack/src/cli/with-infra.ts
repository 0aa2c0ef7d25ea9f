#!/usr/bin/env node
/**
 * `node with-infra.js <command...>`: runs the command with one fresh Kafka, Postgres and identity
 * provider (TEST_KAFKA_BROKERS / TEST_ADMIN_DATABASE_URL / TEST_AUTH_ISSUER_URL in its env), then
 * stops them.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTestInfra, testInfraEnv, type TestInfra } from '../test-infra';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: with-infra <command> [args...]');
    return 2;
  }
  const started = Date.now();
  const infra = await startTestInfra(
    process.env.TEST_DATABASE_URL ? { adminDatabaseUrl: process.env.TEST_DATABASE_URL } : {},
  );
  say(`[with-infra] Kafka ${infra.kafkaBrokers} (log: ${join(infra.tempDir, 'kafka.log')})`);
  say(
    `[with-infra] Postgres ${redact(infra.adminDatabaseUrl)}` +
      (process.env.TEST_DATABASE_URL
        ? ' (TEST_DATABASE_URL)'
        : ` (log: ${join(infra.tempDir, 'postgres.log')})`),
  );
  say(`[with-infra] identity provider ${infra.authIssuerUrl}`);
  say(
    `[with-infra] ready in ${((Date.now() - started) / 1000).toFixed(1)} s; running: ${[command, ...args].join(' ')}`,
  );
  let code = 1;
  try {
    code = await runCommand(command, args, infra);
    return code;
  } finally {
    await infra.stop(code !== 0);
    if (code !== 0) console.error(`[with-infra] Kafka/Postgres logs kept in ${infra.tempDir}`);
  }
}

function runCommand(command: string, args: string[], infra: TestInfra): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        ...testInfraEnv(infra),
      },
    });
    // Ctrl-C reaches the command directly (same process group); SIGTERM from elsewhere is passed on.
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', forward);
    child.once('error', (error) => {
      console.error(`[with-infra] cannot run ${command}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };
  return (signal && numbers[signal]) ?? 1;
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      `[with-infra] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
