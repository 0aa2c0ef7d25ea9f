import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { TOPIC_PARTITIONS } from '@shop/contracts';
import {
  derivedKafkaPasswords,
  KAFKA_ADMIN,
  KAFKA_SASL_MECHANISM,
  provisionKafka,
  scramCredentialArgument,
  type KafkaPrincipal,
} from '@shop/kafka-access';
import { assertStillRunning, runToCompletion, spawnManaged, type ManagedChild } from './child';
import { localDir } from './paths';
import { waitFor } from './wait';

/** Same version as the `apache/kafka` image in docker-compose.yml. */
export const KAFKA_VERSION = '3.9.1';
const SCALA_VERSION = '2.13';
const SLF4J_BINDING_VERSION = '1.7.36';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

/**
 * The local and test brokers' admin password, fixed like the embedded Postgres's: those brokers
 * listen on 127.0.0.1 only, and every tool must find the credentials without being handed them.
 * Each principal's password derives from it (derivedKafkaPasswords); compose uses real secrets.
 */
export const DEVSTACK_KAFKA_ADMIN_PASSWORD = 'devstack-kafka-admin';
const DEVSTACK_PASSWORDS = derivedKafkaPasswords(DEVSTACK_KAFKA_ADMIN_PASSWORD);
/** The broker's own login on the controller listener (PLAIN: SCRAM is not possible there). */
const CONTROLLER_USER = 'controller';

/** SASL settings of a devstack client authenticating as `principal` (tests, tools). */
export function devstackKafkaSasl(principal: KafkaPrincipal | typeof KAFKA_ADMIN = KAFKA_ADMIN): {
  mechanism: typeof KAFKA_SASL_MECHANISM;
  username: string;
  password: string;
} {
  return {
    mechanism: KAFKA_SASL_MECHANISM,
    username: principal,
    password: DEVSTACK_PASSWORDS[principal],
  };
}

/** The variables a service or the console needs to authenticate to a devstack broker. */
export function devstackKafkaEnv(principal: KafkaPrincipal): Record<string, string> {
  return { KAFKA_SASL_USERNAME: principal, KAFKA_SASL_PASSWORD: DEVSTACK_PASSWORDS[principal] };
}

export interface KafkaOptions {
  port?: number;
  controllerPort?: number;
  dataDir?: string;
  /** Wipe dataDir first: a brand-new cluster. */
  fresh?: boolean;
  log?: (line: string) => void;
}

export interface RunningKafka {
  brokers: string;
  /** The broker's process id (changes on restart). */
  readonly pid: number;
  stop(): Promise<void>;
  /** SIGKILL, no controlled shutdown (chaos tests). */
  kill(): void;
  restart(): Promise<void>;
}

interface KafkaConfig {
  port: number;
  controllerPort: number;
  dataDir: string;
  configDir: string;
  libs: string;
  log: (line: string) => void;
}

export async function startKafka(options: KafkaOptions = {}): Promise<RunningKafka> {
  const port = options.port ?? 9092;
  const dataDir = options.dataDir ?? localDir('kafka', 'data');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.fresh) await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const config: KafkaConfig = {
    port,
    controllerPort: options.controllerPort ?? 9093,
    dataDir,
    // Config beside (not inside) the data so `fresh` and Kafka's own files never collide.
    configDir: `${dataDir.replace(/[/\\]+$/, '')}-config`,
    libs: await ensureKafkaJars(log),
    log,
  };
  await writeConfigFiles(config);
  await formatStorageIfNeeded(config);

  let child = await launchBroker(config);
  const brokers = `127.0.0.1:${port}`;
  try {
    await withAdmin(brokers, provisionKafka);
  } catch (error) {
    await child.terminate('SIGTERM', STOP_GRACE_MS);
    throw error;
  }
  return {
    brokers,
    get pid() {
      return child.pid;
    },
    stop: async () => {
      await child.terminate('SIGTERM', STOP_GRACE_MS);
    },
    kill: () => child.signal('SIGKILL'),
    restart: async () => {
      await child.terminate('SIGTERM', STOP_GRACE_MS);
      child = await launchBroker(config);
    },
  };
}

/** Downloads Kafka and its dependencies once into .local/kafka/libs-<version>; returns that folder. */
export async function ensureKafkaJars(log: (line: string) => void): Promise<string> {
  const root = localDir('kafka');
  const libs = join(root, `libs-${KAFKA_VERSION}`);
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;

  log(`downloading Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)`);
  await mkdir(root, { recursive: true });
  const pom = join(root, `pom-${KAFKA_VERSION}.xml`);
  await writeFile(pom, pomXml());
  // Download into a private folder and rename: two runs racing never see a half-filled libs folder.
  const staging = `${libs}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await runToCompletion(
    {
      command: 'mvn',
      args: [
        '-B',
        '-Dstyle.color=never',
        '-f',
        pom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
        '-DincludeScope=runtime',
      ],
      log,
    },
    'mvn dependency:copy-dependencies',
  );
  await writeFile(join(staging, '.complete'), `${new Date().toISOString()}\n`);
  try {
    await rename(staging, libs);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(marker)) throw error;
  }
  return libs;
}

function pomXml(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.devstack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>${SLF4J_BINDING_VERSION}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>3.8.1</version>
      </plugin>
    </plugins>
  </build>
</project>
`;
}

async function writeConfigFiles(config: KafkaConfig): Promise<void> {
  await mkdir(config.configDir, { recursive: true });
  await writeFile(join(config.configDir, 'server.properties'), serverProperties(config));
  await writeFile(join(config.configDir, 'log4j.properties'), log4jProperties());
}

/**
 * Clients and the broker itself authenticate with SCRAM on CLIENT; the broker reaches its
 * controller over CONTROLLER with PLAIN, whose one user is in this file (KRaft cannot check SCRAM
 * there). No listener accepts an unauthenticated client, and nothing is allowed without an ACL.
 */
function serverProperties(config: KafkaConfig): string {
  const controllerPassword = controllerPasswordOf(DEVSTACK_KAFKA_ADMIN_PASSWORD);
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${config.controllerPort}`,
    `listeners=CLIENT://127.0.0.1:${config.port},CONTROLLER://127.0.0.1:${config.controllerPort}`,
    `advertised.listeners=CLIENT://127.0.0.1:${config.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=CLIENT',
    'listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
    'sasl.enabled.mechanisms=SCRAM-SHA-256',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256',
    `listener.name.client.scram-sha-256.sasl.jaas.config=${jaas('scram.ScramLoginModule', KAFKA_ADMIN, DEVSTACK_KAFKA_ADMIN_PASSWORD)}`,
    'sasl.mechanism.controller.protocol=PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=${jaas('plain.PlainLoginModule', CONTROLLER_USER, controllerPassword, { [`user_${CONTROLLER_USER}`]: controllerPassword })}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=User:${KAFKA_ADMIN};User:${CONTROLLER_USER}`,
    'offsets.topic.replication.factor=1',
    // One partition: the consumer-offsets topic is created on first group join, faster with one.
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // Groups form immediately instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    // A restart after kill() waits for the old broker session to expire: keep that short.
    'broker.heartbeat.interval.ms=1000',
    'broker.session.timeout.ms=4000',
    'auto.create.topics.enable=false',
    `num.partitions=${TOPIC_PARTITIONS}`,
    `log.dirs=${config.dataDir}`,
    '',
  ].join('\n');
}

function jaas(
  module: string,
  username: string,
  password: string,
  extra: Record<string, string> = {},
): string {
  const options = { username, password, ...extra };
  const pairs = Object.entries(options).map(([key, value]) => `${key}="${value}"`);
  return `org.apache.kafka.common.security.${module} required ${pairs.join(' ')};`;
}

function controllerPasswordOf(adminPassword: string): string {
  return createHash('sha256').update(`${adminPassword}:${CONTROLLER_USER}`).digest('base64url');
}

/** The SCRAM users a fresh storage is formatted with: the admin and every principal. */
function scramArguments(): string[] {
  return Object.entries(DEVSTACK_PASSWORDS).flatMap(([name, password]) => [
    '--add-scram',
    scramCredentialArgument(name, password),
  ]);
}

function log4jProperties(): string {
  return [
    'log4j.rootLogger=WARN, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=%d{HH:mm:ss.SSS} %p %m (%c)%n',
    'log4j.logger.kafka.server.KafkaRaftServer=INFO',
    '',
  ].join('\n');
}

function javaArgs(
  config: KafkaConfig,
  mainClass: string,
  args: string[],
  heap: string[],
): string[] {
  return [
    ...heap,
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${join(config.configDir, 'log4j.properties')}`,
    '-cp',
    `${config.libs}/*`,
    mainClass,
    ...args,
  ];
}

/**
 * SCRAM users exist only as the storage was formatted with them (kafkajs cannot add any later), so
 * a data folder formatted for other users (an older principal table) starts over, empty.
 */
async function formatStorageIfNeeded(config: KafkaConfig): Promise<void> {
  const usersFile = join(config.configDir, 'scram-users.sha256');
  const users = createHash('sha256').update(scramArguments().join('\n')).digest('hex');
  if (existsSync(join(config.dataDir, 'meta.properties'))) {
    const formattedFor = await readFile(usersFile, 'utf8').catch(() => '');
    if (formattedFor === users) return;
    config.log('Kafka users changed since this data was formatted: starting from an empty cluster');
    await rm(config.dataDir, { recursive: true, force: true });
    await mkdir(config.dataDir, { recursive: true });
  }
  const clusterId = randomBytes(16).toString('base64url');
  await runToCompletion(
    {
      command: 'java',
      args: javaArgs(
        config,
        'kafka.tools.StorageTool',
        // `=` form: a base64url id may start with '-', which the tool would take for an option.
        [
          'format',
          `--cluster-id=${clusterId}`,
          '-c',
          join(config.configDir, 'server.properties'),
          ...scramArguments(),
        ],
        ['-Xmx256m'],
      ),
      log: config.log,
    },
    'kafka storage format',
  );
  await writeFile(usersFile, users);
}

async function launchBroker(config: KafkaConfig): Promise<ManagedChild> {
  const child = spawnManaged({
    command: 'java',
    args: javaArgs(
      config,
      'kafka.Kafka',
      [join(config.configDir, 'server.properties')],
      ['-Xmx1g', '-Xms256m'],
    ),
    log: config.log,
  });
  try {
    await waitForBroker(`127.0.0.1:${config.port}`, child);
  } catch (error) {
    await child.terminate('SIGKILL', 0);
    throw error;
  }
  return child;
}

async function waitForBroker(brokers: string, child: ManagedChild): Promise<void> {
  const admin = quietAdmin(brokers, 1_000);
  try {
    await waitFor(
      async () => {
        assertStillRunning(child, 'Kafka');
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, description: `Kafka broker at ${brokers}` },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** kafkajs logs every refused connection at ERROR; during polling those are expected. */
function quietAdmin(brokers: string, connectionTimeout = 3_000): Admin {
  return new Kafka({
    clientId: 'devstack',
    brokers: [brokers],
    sasl: devstackKafkaSasl(),
    logLevel: logLevel.NOTHING,
    connectionTimeout,
    retry: { retries: 0 },
  }).admin();
}

/** Creates the topics that do not exist yet; waits until each has a leader. */
export async function ensureTopics(
  brokers: string,
  topics: readonly string[],
  partitions: number = TOPIC_PARTITIONS,
): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  });
}

/** Deletes and recreates topics so a test file starts from empty topics. */
export async function resetTopics(brokers: string, topics: readonly string[]): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 30_000 });
    await waitFor(
      async () => {
        const left = new Set(await admin.listTopics());
        return present.every((topic) => !left.has(topic));
      },
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: `deletion of topics ${present.join(', ')}`,
      },
    );
  });
  await ensureTopics(brokers, topics, TOPIC_PARTITIONS);
}

/** How many members a consumer group has now: 0 once every replica has left (or never joined). */
export async function consumerGroupMembers(brokers: string, groupId: string): Promise<number> {
  return withAdmin(brokers, async (admin) => {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  });
}

async function withAdmin<T>(brokers: string, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Kafka({
    clientId: 'devstack-admin',
    brokers: brokers.split(','),
    sasl: devstackKafkaSasl(),
    logLevel: logLevel.WARN,
  }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}
