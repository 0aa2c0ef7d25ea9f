import { Client } from 'pg';
import { derivedRolePasswords, SERVICE_DATABASES, type RolePasswords } from './services';

/**
 * Creates the database (when missing), each service's two roles and its schema, and sets their
 * privileges: the owner role owns the schema; the service role may only read and write its
 * tables. Idempotent, safe on every start; a role that exists gets the given password again.
 * A schema from before the owner roles (owned by the service role) is handed to its owner.
 * Needs a superuser URL. Passwords default to those derived from that URL (local stacks, tests).
 */
export async function bootstrapDatabase(
  adminUrl: string,
  database: string,
  passwords: RolePasswords = derivedRolePasswords(adminUrl),
): Promise<void> {
  assertIdentifier(database);
  await withClient(adminUrl, async (admin) => {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
    for (const { role, ownerRole } of SERVICE_DATABASES) {
      for (const name of [role, ownerRole]) {
        const password = passwords[name];
        if (!password) throw new Error(`no password given for database role ${name}`);
        // Roles are cluster-wide; two bootstraps racing (parallel test files) may both create one.
        await admin.query(`
          DO $$ BEGIN
            CREATE ROLE ${name} LOGIN;
          EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
          END $$`);
        await admin.query(`ALTER ROLE ${name} LOGIN PASSWORD ${quoteLiteral(password)}`);
      }
    }
  });

  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  await withClient(url.toString(), async (admin) => {
    await admin.query(`REVOKE ALL ON DATABASE "${database}" FROM PUBLIC`);
    await admin.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    for (const { role, ownerRole, schema } of SERVICE_DATABASES) {
      await admin.query(`GRANT CONNECT ON DATABASE "${database}" TO ${role}, ${ownerRole}`);
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${ownerRole}`);
      const { rows } = await admin.query<{ owner: string }>(
        'SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1',
        [schema],
      );
      if (rows[0]?.owner === role) {
        await admin.query(`ALTER SCHEMA ${schema} OWNER TO ${ownerRole}`);
        await admin.query(`REASSIGN OWNED BY ${role} TO ${ownerRole}`);
      }
      await admin.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
      await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
      // Tables and sequences there now, and those the owner's migrations create later.
      await admin.query(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`,
      );
      await admin.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`);
      await admin.query(`
        ALTER DEFAULT PRIVILEGES FOR ROLE ${ownerRole} IN SCHEMA ${schema}
          GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`);
      await admin.query(`
        ALTER DEFAULT PRIVILEGES FOR ROLE ${ownerRole} IN SCHEMA ${schema}
          GRANT USAGE, SELECT ON SEQUENCES TO ${role}`);
      for (const name of [role, ownerRole]) {
        await admin.query(
          `ALTER ROLE ${name} IN DATABASE "${database}" SET search_path = ${schema}`,
        );
      }
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

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
