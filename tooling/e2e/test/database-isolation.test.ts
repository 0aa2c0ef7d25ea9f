import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { applyMigrations, SERVICE_DATABASES, type ServiceName } from '@shop/database';
import { createTestDatabase, type TestDatabase } from '@shop/devstack';

const TABLE_OF: Record<ServiceName, string> = {
  'order-service': 'orders.orders',
  'inventory-service': 'inventory.products',
  'notification-service': 'notifications.notifications',
};

function migrationsDir(service: ServiceName): string {
  return join(dirname(require.resolve(`@shop/${service}/package.json`)), 'prisma', 'migrations');
}

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('isolation');
  for (const { service, schema } of SERVICE_DATABASES) {
    await applyMigrations({
      databaseUrl: database.urlFor(service, 'owner'),
      schema,
      migrationsDir: migrationsDir(service),
    });
  }
});

afterAll(async () => {
  await database?.drop();
});

async function asService<T>(
  service: ServiceName,
  work: (client: Client) => Promise<T>,
  as: 'runtime' | 'owner' = 'runtime',
): Promise<T> {
  const client = new Client({ connectionString: database.urlFor(service, as) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('one schema and two roles per service: the owner migrates, the service only reads and writes', () => {
  it.each(SERVICE_DATABASES.map(({ service }) => service))(
    'lets %s read its own tables',
    async (service) => {
      const rows = await asService(service, (client) =>
        client.query(`SELECT count(*) FROM ${TABLE_OF[service]}`),
      );
      expect(rows.rowCount).toBe(1);
    },
  );

  it.each(
    SERVICE_DATABASES.flatMap(({ service }) =>
      SERVICE_DATABASES.filter((other) => other.service !== service).map(
        (other) => [service, other.service] as const,
      ),
    ),
  )('denies %s (either role) any access to the tables of %s', async (service, other) => {
    for (const as of ['runtime', 'owner'] as const) {
      await expect(
        asService(
          service,
          (client) => client.query(`SELECT * FROM ${TABLE_OF[other]} LIMIT 1`),
          as,
        ),
      ).rejects.toThrow(/permission denied/);
    }
  });

  it('lets the running inventory service change stock but not drop the constraint that stops overselling', async () => {
    await asService('inventory-service', async (client) => {
      await client.query(
        "INSERT INTO products (sku, name, available, reserved) VALUES ('ISO-1', 'Isolation', 1, 0)",
      );
      await client.query("UPDATE products SET available = 0 WHERE sku = 'ISO-1'");
      await expect(
        client.query("UPDATE products SET available = -1 WHERE sku = 'ISO-1'"),
      ).rejects.toThrow(/products_available_non_negative/);
      await expect(
        client.query('ALTER TABLE products DROP CONSTRAINT products_available_non_negative'),
      ).rejects.toThrow(/must be owner/);
      await expect(client.query('DROP TABLE reservations')).rejects.toThrow(/must be owner/);
      await expect(client.query('TRUNCATE products')).rejects.toThrow(/permission denied/);
      await expect(client.query('CREATE TABLE extra (id int)')).rejects.toThrow(
        /permission denied/,
      );
    });
    const constraints = await asService(
      'inventory-service',
      (client) =>
        client.query(
          "SELECT 1 FROM pg_constraint WHERE conname = 'products_available_non_negative'",
        ),
      'owner',
    );
    expect(constraints.rowCount).toBe(1);
  });

  it('refuses a role whose password is its own name', async () => {
    for (const { service, role } of SERVICE_DATABASES) {
      const url = new URL(database.urlFor(service));
      url.password = role;
      const client = new Client({ connectionString: url.toString() });
      await expect(client.connect()).rejects.toThrow(/password authentication failed/);
      await client.end().catch(() => undefined);
    }
  });

  it('records applied migrations as Prisma does, with the sha256 of each migration.sql', async () => {
    const { rows } = await asService('order-service', (client) =>
      client.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        applied_steps_count: number;
      }>(
        'SELECT migration_name, checksum, finished_at, applied_steps_count FROM orders._prisma_migrations',
      ),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const sql = await readFile(
        join(migrationsDir('order-service'), row.migration_name, 'migration.sql'),
      );
      expect(row.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('applies nothing the second time', async () => {
    const applied = await applyMigrations({
      databaseUrl: database.urlFor('order-service', 'owner'),
      schema: 'orders',
      migrationsDir: migrationsDir('order-service'),
    });
    expect(applied).toEqual([]);
  });
});
