import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { TOPIC_PARTITIONS } from '@shop/contracts';
import { assertStillRunning, runToCompletion, spawnManaged, type ManagedChild } from './child';
import { localDir } from './paths';
import { waitFor } from './wait';

/** Same version as the `apache/kafka` image in docker-compose.yml. */
export const KAFKA_VERSION = '3.9.1';
const SCALA_VERSION = '2.13';
const SLF4J_BINDING_VERSION = '1.7.36';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

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

function serverProperties(config: KafkaConfig): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${config.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${config.port},CONTROLLER://127.0.0.1:${config.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${config.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
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

async function formatStorageIfNeeded(config: KafkaConfig): Promise<void> {
  if (existsSync(join(config.dataDir, 'meta.properties'))) return;
  const clusterId = randomBytes(16).toString('base64url');
  await runToCompletion(
    {
      command: 'java',
      args: javaArgs(
        config,
        'kafka.tools.StorageTool',
        // `=` form: a base64url id may start with '-', which the tool would take for an option.
        ['format', `--cluster-id=${clusterId}`, '-c', join(config.configDir, 'server.properties')],
        ['-Xmx256m'],
      ),
      log: config.log,
    },
    'kafka storage format',
  );
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
    logLevel: logLevel.WARN,
  }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}
