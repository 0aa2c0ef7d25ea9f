import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bootstrapDatabase,
  dropDatabase,
  serviceDatabaseEnv,
  serviceDatabaseUrl,
  type ServiceName,
} from '@shop/database';
import type { CorpusCredentials } from './bad-requests';
import { refusedAuthorizationHeaders } from './edge-tokens';
import {
  API_AUDIENCE,
  issueToken,
  newSigningKeyJwk,
  startIdentityProvider,
  type Identity,
  type RunningIdentityProvider,
} from './identity-provider';
import { startKafka, type RunningKafka } from './kafka';
import { startPostgres, type RunningPostgres } from './postgres';
import { freePort } from './wait';

export interface TestInfra {
  kafkaBrokers: string;
  /** Set when this infra started the broker: fault tests pause it (see pauseTestKafka). */
  kafkaPid: number | undefined;
  adminDatabaseUrl: string;
  /** The OpenID Connect provider the services under test trust. */
  authIssuerUrl: string;
  /** Its private signing key (JWK JSON), when this infra started it: tests sign edge-case tokens. */
  authSigningJwk: string | undefined;
  /** Holds the data and the kafka.log / postgres.log files. */
  tempDir: string;
  /** Stops what was started and deletes tempDir; `keepLogs` deletes only the data (for post-mortems). */
  stop(keepLogs?: boolean): Promise<void>;
}

export interface TestInfraOptions {
  /** Reuse these instead of starting a broker / server. */
  kafkaBrokers?: string;
  adminDatabaseUrl?: string;
  authIssuerUrl?: string;
}

const DATA_DIRS = ['kafka', 'kafka-config', 'postgres'];

/** Throwaway Kafka and Postgres on free ports, data in a temp dir, logs to files there. */
export async function startTestInfra(options: TestInfraOptions = {}): Promise<TestInfra> {
  const tempDir = await mkdtemp(join(tmpdir(), 'shop-test-infra-'));
  // Under root Postgres runs as the OS user "postgres", which must be able to enter this folder.
  await chmod(tempDir, 0o755);
  const logs: WriteStream[] = [];
  const logTo = (file: string): ((line: string) => void) => {
    const stream = createWriteStream(join(tempDir, file), { flags: 'a' });
    logs.push(stream);
    return (line) => stream.write(`${line}\n`);
  };

  const started: Array<RunningKafka | RunningPostgres | RunningIdentityProvider> = [];
  const stop = async (keepLogs = false): Promise<void> => {
    await Promise.allSettled(started.map((handle) => handle.stop()));
    await Promise.all(logs.map((stream) => new Promise((resolve) => stream.end(resolve))));
    const doomed = keepLogs ? DATA_DIRS.map((dir) => join(tempDir, dir)) : [tempDir];
    await Promise.all(doomed.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  try {
    const [kafka, adminDatabaseUrl, auth] = await Promise.all([
      options.kafkaBrokers ?? startTestKafka(tempDir, logTo('kafka.log'), started),
      options.adminDatabaseUrl ?? startTestPostgres(tempDir, logTo('postgres.log'), started),
      options.authIssuerUrl === undefined
        ? startTestIdentityProvider(logTo('identity-provider.log'), started)
        : { issuerUrl: options.authIssuerUrl, signingJwk: undefined },
    ]);
    const common = {
      adminDatabaseUrl,
      authIssuerUrl: auth.issuerUrl,
      authSigningJwk: auth.signingJwk,
      tempDir,
      stop,
    };
    return typeof kafka === 'string'
      ? { kafkaBrokers: kafka, kafkaPid: undefined, ...common }
      : { kafkaBrokers: kafka.brokers, kafkaPid: kafka.pid, ...common };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startTestKafka(
  tempDir: string,
  log: (line: string) => void,
  started: Array<RunningKafka | RunningPostgres | RunningIdentityProvider>,
): Promise<RunningKafka> {
  const kafka = await startKafka({
    port: await freePort(),
    controllerPort: await freePort(),
    dataDir: join(tempDir, 'kafka'),
    fresh: true,
    log,
  });
  started.push(kafka);
  return kafka;
}

async function startTestPostgres(
  tempDir: string,
  log: (line: string) => void,
  started: Array<RunningKafka | RunningPostgres | RunningIdentityProvider>,
): Promise<string> {
  const postgres = await startPostgres({
    port: await freePort(),
    dataDir: join(tempDir, 'postgres'),
    fresh: true,
    durable: false,
    log,
  });
  started.push(postgres);
  return postgres.adminUrl;
}

async function startTestIdentityProvider(
  log: (line: string) => void,
  started: Array<RunningKafka | RunningPostgres | RunningIdentityProvider>,
): Promise<{ issuerUrl: string; signingJwk: string }> {
  const signingJwk = await newSigningKeyJwk();
  const idp = await startIdentityProvider({
    port: await freePort(),
    signingKeyJwk: signingJwk,
    log,
  });
  started.push(idp);
  return { issuerUrl: idp.issuerUrl, signingJwk };
}

// Jest loads global setup and teardown in one process; a global symbol survives separate module loads.
const HANDLE = Symbol.for('@shop/devstack/test-infra');
type GlobalWithHandle = typeof globalThis & { [HANDLE]?: TestInfra };

/**
 * Jest global setup: makes sure TEST_KAFKA_BROKERS, TEST_ADMIN_DATABASE_URL and
 * TEST_AUTH_ISSUER_URL point at a running Kafka, Postgres and identity provider, starting what
 * the root `pnpm test` wrapper did not.
 */
export async function ensureTestInfra(): Promise<void> {
  const env = process.env;
  if (env.TEST_KAFKA_BROKERS && env.TEST_ADMIN_DATABASE_URL && env.TEST_AUTH_ISSUER_URL) return;
  const options: TestInfraOptions = {};
  if (env.TEST_KAFKA_BROKERS) options.kafkaBrokers = env.TEST_KAFKA_BROKERS;
  if (env.TEST_AUTH_ISSUER_URL) options.authIssuerUrl = env.TEST_AUTH_ISSUER_URL;
  const adminUrl = env.TEST_ADMIN_DATABASE_URL ?? env.TEST_DATABASE_URL;
  if (adminUrl) options.adminDatabaseUrl = adminUrl;
  const infra = await startTestInfra(options);
  // Jest workers inherit the global-setup process's environment.
  Object.assign(env, testInfraEnv(infra));
  (globalThis as GlobalWithHandle)[HANDLE] = infra;
}

/** Jest global teardown: stops only what ensureTestInfra started. */
export async function teardownTestInfra(): Promise<void> {
  const holder = globalThis as GlobalWithHandle;
  const infra = holder[HANDLE];
  delete holder[HANDLE];
  await infra?.stop();
}

/** What tests read to find the infrastructure (and, for fault tests, the broker's process). */
export function testInfraEnv(infra: TestInfra): Record<string, string> {
  return {
    TEST_KAFKA_BROKERS: infra.kafkaBrokers,
    TEST_ADMIN_DATABASE_URL: infra.adminDatabaseUrl,
    TEST_AUTH_ISSUER_URL: infra.authIssuerUrl,
    ...(infra.authSigningJwk === undefined ? {} : { TEST_AUTH_SIGNING_JWK: infra.authSigningJwk }),
    ...(infra.kafkaPid === undefined ? {} : { TEST_KAFKA_PID: String(infra.kafkaPid) }),
  };
}

/**
 * Freezes the test broker (SIGSTOP): it stops answering, as if the network to it were cut, until
 * the returned function resumes it (SIGCONT). Only possible when the test infra started the broker.
 */
export function pauseTestKafka(): () => void {
  const pid = Number(process.env.TEST_KAFKA_PID);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new Error(
      'TEST_KAFKA_PID is not set: this test needs the broker that `pnpm test` or jest starts, not an external one',
    );
  }
  process.kill(pid, 'SIGSTOP');
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    process.kill(pid, 'SIGCONT');
  };
}

const HOW_TO_RUN = 'run through jest with @shop/jest-preset integration config or `pnpm test`';

export function testKafkaBrokers(): string {
  const brokers = process.env.TEST_KAFKA_BROKERS;
  if (!brokers) throw new Error(`TEST_KAFKA_BROKERS is not set: ${HOW_TO_RUN}`);
  return brokers;
}

export function testAdminDatabaseUrl(): string {
  const url = process.env.TEST_ADMIN_DATABASE_URL;
  if (!url) throw new Error(`TEST_ADMIN_DATABASE_URL is not set: ${HOW_TO_RUN}`);
  return url;
}

export function testAuthIssuerUrl(): string {
  const url = process.env.TEST_AUTH_ISSUER_URL;
  if (!url) throw new Error(`TEST_AUTH_ISSUER_URL is not set: ${HOW_TO_RUN}`);
  return url;
}

/** The test IdP's private key, to sign tokens it would never issue (expired, wrong audience). */
export function testAuthSigningJwk(): string {
  const jwk = process.env.TEST_AUTH_SIGNING_JWK;
  if (!jwk) {
    throw new Error(
      'TEST_AUTH_SIGNING_JWK is not set: this test needs the identity provider that `pnpm test` or jest starts',
    );
  }
  return jwk;
}

const testTokens = new Map<Identity, Promise<string>>();

/**
 * `{ authorization: 'Bearer …' }` for a seeded identity, from the run's identity provider; one
 * token per identity and test file (they live an hour).
 */
export async function authHeader(identity: Identity): Promise<{ authorization: string }> {
  let token = testTokens.get(identity);
  if (!token) {
    token = issueToken(testAuthIssuerUrl(), identity);
    testTokens.set(identity, token);
    token.catch(() => testTokens.delete(identity));
  }
  return { authorization: `Bearer ${await token}` };
}

/** Tokens for the bad-request corpus from the run's identity provider. */
export function testCorpusCredentials(): Promise<CorpusCredentials> {
  return corpusCredentials(testAuthIssuerUrl(), testAuthSigningJwk());
}

/**
 * Tokens for the bad-request corpus from an identity provider whose signing key the caller holds:
 * seeded callers of each role, and the refused kinds (forged, expired, another issuer...).
 */
export async function corpusCredentials(
  issuerUrl: string,
  signingJwk: string,
): Promise<CorpusCredentials> {
  const [customer, admin, operator, refused] = await Promise.all([
    issueToken(issuerUrl, 'ada'),
    issueToken(issuerUrl, 'admin'),
    issueToken(issuerUrl, 'shop-operator'),
    refusedAuthorizationHeaders({ issuer: issuerUrl, audience: API_AUDIENCE, signingJwk }),
  ]);
  return { tokens: { customer, admin, operator }, refused };
}

export interface TestDatabase {
  name: string;
  adminUrl: string;
  /** The service's own role, or (`owner`) the role that owns its schema. */
  urlFor(service: ServiceName, as?: 'runtime' | 'owner'): string;
  /** DATABASE_URL and MIGRATION_DATABASE_URL for the service. */
  envFor(service: ServiceName): { DATABASE_URL: string; MIGRATION_DATABASE_URL: string };
  drop(): Promise<void>;
}

/** A fresh database (with the per-service roles and schemas) for one test file. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const serverUrl = testAdminDatabaseUrl();
  const cleanPrefix = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z_]/, '_$&');
  const name = `${cleanPrefix}_${randomBytes(4).toString('hex')}`.slice(0, 63);
  await bootstrapDatabase(serverUrl, name);
  const adminUrl = withDatabase(serverUrl, name);
  return {
    name,
    adminUrl,
    urlFor: (service, as) => serviceDatabaseUrl(serverUrl, service, name, as),
    envFor: (service) => serviceDatabaseEnv(serverUrl, service, name),
    drop: () => dropDatabase(serverUrl, name),
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
