import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from 'pg';

export interface MigrationLogger {
  info(details: object, message: string): void;
}

export interface MigrateOptions {
  databaseUrl: string;
  /** The schema that holds the service's tables and its `_prisma_migrations` table. */
  schema: string;
  /** `prisma/migrations`: one folder per migration, each with a `migration.sql`. */
  migrationsDir: string;
  logger?: MigrationLogger;
}

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Applies committed Prisma migrations without Prisma's native engine (which cannot be
 * downloaded offline). Writes `_prisma_migrations` exactly as `prisma migrate deploy` does:
 * the checksum is the sha256 of migration.sql, so either tool can take over from the other.
 * An advisory lock serialises replicas starting together; each migration runs in a transaction.
 */
export async function applyMigrations(options: MigrateOptions): Promise<string[]> {
  const migrations = await readMigrations(options.migrationsDir);
  const client = new Client({ connectionString: options.databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query(`SET search_path = ${quoteIdent(options.schema)}`);
    await client.query('SELECT pg_advisory_lock($1)', [lockKey(options.schema)]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY NOT NULL,
        "checksum" VARCHAR(64) NOT NULL,
        "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL,
        "logs" TEXT,
        "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0
      )`);
    const done = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations"
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const appliedChecksums = new Map(done.rows.map((row) => [row.migration_name, row.checksum]));
    for (const migration of migrations) {
      const recorded = appliedChecksums.get(migration.name);
      if (recorded !== undefined) {
        if (recorded !== migration.checksum) {
          throw new Error(
            `migration ${migration.name} was edited after it was applied (checksum differs); add a new migration instead`,
          );
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        const id = randomUUID();
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), 0)`,
          [id, migration.checksum, migration.name],
        );
        await client.query(migration.sql);
        await client.query(
          `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`);
      }
      options.logger?.info(
        { migration: migration.name, schema: options.schema },
        'migration applied',
      );
      applied.push(migration.name);
    }
  } finally {
    await client.end();
  }
  return applied;
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

function lockKey(schema: string): number {
  return createHash('sha256').update(`migrate:${schema}`).digest().readInt32BE(0);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
