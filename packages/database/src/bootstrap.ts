import { Client } from 'pg';
import { SERVICE_DATABASES } from './services';

/**
 * Creates the database (when missing), one role and one schema per service, and locks each
 * schema to its role. Idempotent: safe on every start. Needs a superuser (or CREATEROLE) URL.
 */
export async function bootstrapDatabase(adminUrl: string, database: string): Promise<void> {
  assertIdentifier(database);
  await withClient(adminUrl, async (admin) => {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
    for (const { role } of SERVICE_DATABASES) {
      // Roles are cluster-wide; two bootstraps racing (parallel test files) may both try to create one.
      await admin.query(`
        DO $$ BEGIN
          CREATE ROLE ${role} LOGIN PASSWORD '${role}';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$`);
    }
  });

  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  await withClient(url.toString(), async (admin) => {
    await admin.query(`REVOKE ALL ON DATABASE "${database}" FROM PUBLIC`);
    await admin.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    for (const { role, schema } of SERVICE_DATABASES) {
      await admin.query(`GRANT CONNECT, TEMPORARY ON DATABASE "${database}" TO ${role}`);
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${role}`);
      await admin.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
      await admin.query(`ALTER ROLE ${role} IN DATABASE "${database}" SET search_path = ${schema}`);
    }
  });
}

export async function dropDatabase(adminUrl: string, database: string): Promise<void> {
  assertIdentifier(database);
  await withClient(adminUrl, (admin) =>
    admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`),
  );
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function assertIdentifier(name: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`database name "${name}" must be lower-case letters, digits and underscores`);
  }
}
