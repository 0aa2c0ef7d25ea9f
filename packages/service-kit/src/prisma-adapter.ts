import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { survivesDroppedConnections } from './pg-pool';
import { serviceDatabase, type ServiceName } from '@shop/database';
import type { BaseConfig } from './config/config';
import { statementNamer } from './statement-names';

/** Connections of a service's Prisma client; the relay and health share a separate small pool. */
const PRISMA_POOL_SIZE = 10;

type PrismaPgOptions = NonNullable<ConstructorParameters<typeof PrismaPg>[1]>;

/** The driver adapter every service's Prisma client uses: its own role, its own schema. */
export function prismaAdapterFor(
  service: ServiceName,
  config: Pick<BaseConfig, 'DATABASE_URL'> &
    Partial<Pick<BaseConfig, 'DATABASE_PREPARED_STATEMENTS'>>,
): PrismaPg {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: PRISMA_POOL_SIZE });
  survivesDroppedConnections(pool);
  const options: PrismaPgOptions = { schema: serviceDatabase(service).schema };
  if (config.DATABASE_PREPARED_STATEMENTS ?? true) {
    // The adapter hands the name to pg's query config, where undefined means unnamed
    // (adapter-pg's performIO); its type says string only.
    options.statementNameGenerator = statementNamer() as (query: { sql: string }) => string;
  }
  return new PrismaPg(pool, options);
}

/**
 * Every service's interactive transactions: under a burst, a request waits up to 10 s for one of
 * the pool's connections (Prisma's default, 2 s, turns a burst into errors); one that holds its
 * connection for 15 s is rolled back.
 */
export const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 15_000 } as const;
