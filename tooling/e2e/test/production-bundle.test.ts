import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ServiceName } from '@shop/database';
import {
  createTestDatabase,
  findRepoRoot,
  freePort,
  requestJson,
  spawnService,
  testAuthIssuerUrl,
  startSmtpCatcher,
  testKafkaBrokers,
  type SmtpCatcher,
  type TestDatabase,
  devstackKafkaEnv,
} from '@shop/devstack';

const run = promisify(execFile);
const SERVICES: ServiceName[] = ['order-service', 'inventory-service', 'notification-service'];

let database: TestDatabase;
let smtp: SmtpCatcher;

beforeAll(async () => {
  database = await createTestDatabase('bundle');
  smtp = await startSmtpCatcher();
});

afterAll(async () => {
  await smtp?.stop();
  await database?.drop();
});

/**
 * What each Dockerfile ships: `pnpm deploy --prod` of the service (production dependencies only)
 * started with `node dist/main.js`. Docker cannot run here; this runs the same bundle and command.
 */
describe('production bundles (the content of each image)', () => {
  it.each(SERVICES)(
    '%s starts with production dependencies only and reports healthy',
    async (name) => {
      const bundle = await mkdtemp(join(tmpdir(), `${name}-bundle-`));
      try {
        // deploy resolves again (it does not read the lockfile alone): it needs the registry's
        // metadata, which a fresh machine's install from the lockfile never cached.
        await run(
          'pnpm',
          ['--filter', `@shop/${name}`, 'deploy', '--prod', '--prefer-offline', bundle],
          {
            cwd: findRepoRoot(),
          },
        );
        expect(existsSync(join(bundle, 'node_modules', '@shop', 'devstack'))).toBe(false);
        expect(existsSync(join(bundle, 'node_modules', 'prisma'))).toBe(false);

        const service = await spawnService({
          name,
          port: await freePort(),
          entry: join(bundle, 'dist', 'main.js'),
          env: {
            NODE_ENV: 'production',
            ...database.envFor(name),
            KAFKA_BROKERS: testKafkaBrokers(),
            ...devstackKafkaEnv(name),
            KAFKA_GROUP_ID: `${name}-bundle-${randomUUID()}`,
            AUTH_ISSUER_URL: testAuthIssuerUrl(),
            SMTP_URL: smtp.url,
            LOG_LEVEL: 'warn',
          },
        });
        try {
          const health = await requestJson<{ status: string }>('GET', `${service.baseUrl}/health`);
          expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
        } finally {
          // A graceful stop of a healthy bundle exits 0: anything else is a failure to say so.
          expect(await service.stop()).toBe(0);
        }
      } finally {
        await rm(bundle, { recursive: true, force: true });
      }
    },
  );
});
