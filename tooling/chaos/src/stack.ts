import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootstrapDatabase, serviceDatabaseEnv, type ServiceName } from '@shop/database';
import {
  freePort,
  newSigningKeyJwk,
  spawnService,
  startIdentityProvider,
  startKafka,
  startPostgres,
  startSmtpCatcher,
  type RunningKafka,
  type RunningPostgres,
  type ServiceProcess,
  type SmtpCatcher,
  devstackKafkaEnv,
} from '@shop/devstack';

const DATABASE = 'shop';

export const SERVICE_NAMES: readonly ServiceName[] = [
  'order-service',
  'inventory-service',
  'notification-service',
];

/** A restarted consumer waits for its dead predecessor's session to expire (10 s) before /health is 200. */
const HEALTH_TIMEOUT_MS = 120_000;
const RESTART_ATTEMPTS = 5;
const RESTART_DELAY_MS = 2_000;

export type ReplicaCounts = Record<ServiceName, number>;

export interface ChaosStackOptions {
  replicas: ReplicaCounts;
  serviceLogLevel: string;
}

/**
 * The real system for fault injection: its own Kafka and Postgres (so they can be killed and
 * restarted without touching anything else), an SMTP server in this process, and every service
 * with its replicas. Each replica keeps its port across restarts, so clients keep their URLs.
 */
export interface ChaosStack {
  kafka: RunningKafka;
  postgres: RunningPostgres;
  smtp: SmtpCatcher;
  /** The stack's own OpenID Connect provider, and its signing key (to make tokens it must refuse). */
  auth: { issuerUrl: string; signingJwk: string };
  /** Superuser URL of the system's database: the counters read every schema through it. */
  databaseUrl: string;
  /** Holds the service, Kafka and Postgres logs. */
  logDir: string;
  /** The running replicas of a service (none while it is killed). */
  replicas(service: ServiceName): ServiceProcess[];
  /** Base URLs of a service's replicas, stable across restarts. */
  urls(service: ServiceName): string[];
  /**
   * Replicas that died without being killed here, oldest first, each with the error it logged
   * last (the whole log is in logDir). Like a container's restart policy, the stack starts such
   * a replica again at once.
   */
  crashes(): string[];
  /** SIGKILL every replica of the service and wait until they are gone. */
  kill(service: ServiceName): Promise<void>;
  /** Starts the service's replicas that are not running, on their old ports; resolves when healthy. */
  start(service: ServiceName): Promise<void>;
  stop(keepLogs: boolean): Promise<void>;
}

interface Slot {
  service: ServiceName;
  replica: number;
  port: number;
  process: ServiceProcess | undefined;
  killed: boolean;
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const logDir = await mkdtemp(join(tmpdir(), 'shop-chaos-'));
  // Under root Postgres runs as the OS user "postgres", which must be able to enter this folder.
  await chmod(logDir, 0o755);
  const logs = new Map<string, WriteStream>();
  const logTo = (file: string): ((line: string) => void) => {
    const stream = logs.get(file) ?? createWriteStream(join(logDir, file), { flags: 'a' });
    logs.set(file, stream);
    return (line) => stream.write(`${line}\n`);
  };
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async (keepLogs: boolean): Promise<void> => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
    await Promise.all([...logs.values()].map((stream) => new Promise((r) => stream.end(r))));
    const doomed = keepLogs ? ['kafka', 'kafka-config', 'postgres'] : [''];
    await Promise.all(doomed.map((dir) => rm(join(logDir, dir), { recursive: true, force: true })));
  };

  try {
    const [kafka, postgres, smtp] = await Promise.all([
      startKafka({
        port: await freePort(),
        controllerPort: await freePort(),
        dataDir: join(logDir, 'kafka'),
        fresh: true,
        log: logTo('kafka.log'),
      }),
      startPostgres({
        port: await freePort(),
        dataDir: join(logDir, 'postgres'),
        fresh: true,
        durable: false,
        log: logTo('postgres.log'),
      }),
      startSmtpCatcher(),
    ]);
    cleanups.push(
      () => postgres.stop(),
      () => kafka.stop(),
      () => smtp.stop(),
    );
    const signingJwk = await newSigningKeyJwk();
    const idp = await startIdentityProvider({
      port: await freePort(),
      signingKeyJwk: signingJwk,
      log: logTo('identity-provider.log'),
    });
    cleanups.push(() => idp.stop());
    await bootstrapDatabase(postgres.adminUrl, DATABASE);

    const slots: Slot[] = [];
    for (const service of SERVICE_NAMES) {
      for (let replica = 1; replica <= options.replicas[service]; replica++) {
        slots.push({ service, replica, port: await freePort(), process: undefined, killed: false });
      }
    }
    const crashes: string[] = [];
    let stopping = false;
    const launch = async (slot: Slot): Promise<void> => {
      slot.killed = false;
      const started = await spawnService({
        name: slot.service,
        port: slot.port,
        healthTimeoutMs: HEALTH_TIMEOUT_MS,
        log: logTo(`${slot.service}-${slot.replica}.log`),
        env: {
          ...serviceDatabaseEnv(postgres.adminUrl, slot.service, DATABASE),
          KAFKA_BROKERS: kafka.brokers,
          ...devstackKafkaEnv(slot.service),
          KAFKA_GROUP_ID: slot.service,
          AUTH_ISSUER_URL: idp.issuerUrl,
          // The load generator stands for many clients; one address would hit the write limit.
          HTTP_WRITES_PER_MINUTE: '0',
          KAFKA_CLIENT_ID: `${slot.service}-${slot.replica}`,
          LOG_LEVEL: options.serviceLogLevel,
          LOG_FORMAT: 'json',
          ...(slot.service === 'notification-service' ? { SMTP_URL: smtp.url } : {}),
        },
      });
      slot.process = started;
      void started.exited.then((code) => {
        if (slot.process !== started) return;
        slot.process = undefined;
        if (slot.killed) return;
        crashes.push(
          `${slot.service} #${slot.replica} exited (code ${code}): ${crashReason(started)}`,
        );
        if (!stopping) void relaunch(slot);
      });
    };
    const relaunch = async (slot: Slot): Promise<void> => {
      for (let attempt = 1; attempt <= RESTART_ATTEMPTS && !stopping && !slot.process; attempt++) {
        try {
          await launch(slot);
        } catch {
          await sleep(RESTART_DELAY_MS);
        }
      }
    };
    const slotsOf = (service: ServiceName): Slot[] =>
      slots.filter((slot) => slot.service === service);
    const running = (candidates: Slot[]): ServiceProcess[] =>
      candidates.flatMap((slot) => (slot.process ? [slot.process] : []));
    cleanups.push(async () => {
      stopping = true;
      for (const slot of slots) slot.killed = true;
      await Promise.allSettled(running(slots).map((process) => process.stop()));
    });
    await Promise.all(slots.map(launch));

    const databaseUrl = new URL(postgres.adminUrl);
    databaseUrl.pathname = `/${DATABASE}`;
    return {
      kafka,
      postgres,
      smtp,
      auth: { issuerUrl: idp.issuerUrl, signingJwk },
      databaseUrl: databaseUrl.toString(),
      logDir,
      replicas: (service) => running(slotsOf(service)),
      urls: (service) => slotsOf(service).map((slot) => `http://127.0.0.1:${slot.port}`),
      crashes: () => [...crashes],
      kill: async (service) => {
        const victims = slotsOf(service);
        for (const slot of victims) slot.killed = true;
        for (const slot of victims) slot.process?.kill();
        await Promise.all(running(victims).map((victim) => victim.exited));
      },
      start: async (service) => {
        await Promise.all(
          slotsOf(service)
            .filter((slot) => !slot.process)
            .map(launch),
        );
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup(true);
    throw new Error(
      `the chaos stack did not start (logs in ${logDir}): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The error a crashed Node process printed last (the whole log is in the log file). */
function crashReason(crashed: ServiceProcess): string {
  const lines = crashed.output();
  const error = lines.findLast((line) => /^\w*error\b/i.test(line)) ?? lines.at(-1) ?? '';
  const unhandled = lines.some((line) => line.includes("Unhandled 'error' event"));
  return `${unhandled ? "unhandled 'error' event: " : ''}${error.trim().slice(0, 200)}`;
}
