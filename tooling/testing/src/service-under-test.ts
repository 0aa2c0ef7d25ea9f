import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { ALL_TOPICS } from '@shop/contracts';
import {
  createTestDatabase,
  EventProbe,
  freePort,
  resetTopics,
  tableContents,
  testAuthIssuerUrl,
  TestProducer,
  testKafkaBrokers,
  waitForHealthy,
  type TestDatabase,
  devstackKafkaEnv,
} from '@shop/devstack';
import {
  PG_POOL,
  runService,
  type BaseConfig,
  type RunningService,
  type ServiceDefinition,
} from '@shop/service-kit';

export interface ServiceUnderTest<C> {
  running: RunningService<C>;
  url: string;
  database: TestDatabase;
  /** The consumer group of this test run: wait on its committed offsets to know a message was handled. */
  groupId: string;
  /** Sees every event on every topic, from the start of this test file. */
  probe: EventProbe;
  /** Publishes whatever bytes a test wants, valid or not. */
  producer: TestProducer;
  /** Every table of the service's schema, row by row (see tableContents): equal means unchanged. */
  tables(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** The slice of a pg Pool that reading tables needs. */
interface SqlPool {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * One service in-process, on the run's real Kafka (topics emptied first, its own consumer group)
 * and a fresh database, healthy before the tests start.
 */
export async function startServiceUnderTest<S extends z.ZodType<BaseConfig>>(
  definition: ServiceDefinition<S>,
  env: Record<string, string> = {},
): Promise<ServiceUnderTest<z.output<S>>> {
  const brokers = testKafkaBrokers();
  await resetTopics(brokers, ALL_TOPICS);
  const database = await createTestDatabase(`${definition.name.replace('-service', '')}_it`);
  const groupId = `${definition.name}-test-${randomUUID()}`;
  try {
    const running = await runService(definition, {
      PORT: String(await freePort()),
      ...database.envFor(definition.name),
      KAFKA_BROKERS: brokers,
      ...devstackKafkaEnv(definition.name),
      KAFKA_GROUP_ID: groupId,
      AUTH_ISSUER_URL: testAuthIssuerUrl(),
      LOG_LEVEL: 'warn',
      // Tests drive each service as many clients would; test/edge.test.ts checks the limit.
      HTTP_WRITES_PER_MINUTE: '0',
      ...env,
    });
    await waitForHealthy(running.url);
    const [probe, producer] = await Promise.all([
      EventProbe.start(brokers, ALL_TOPICS),
      TestProducer.start(brokers),
    ]);
    return {
      running,
      url: running.url,
      database,
      groupId,
      probe,
      producer,
      tables: async () => {
        // The service's own pool: its role, its schema first on the search_path.
        const pool = running.app.get<SqlPool>(PG_POOL);
        const { rows } = await pool.query('SELECT current_schema() AS schema');
        return tableContents(
          async (sql) => (await pool.query(sql)).rows,
          [String(rows[0]?.schema)],
        );
      },
      stop: async () => {
        await Promise.allSettled([probe.stop(), producer.stop()]);
        await running.app.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}
