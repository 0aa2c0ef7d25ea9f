import { PrismaPg } from '@prisma/adapter-pg';
import { serviceDatabase, type ServiceName } from '@shop/database';
import type { BaseConfig } from './config/config';

/** Connections of a service's Prisma client; the relay and health share a separate small pool. */
const PRISMA_POOL_SIZE = 10;

/** The driver adapter every service's Prisma client uses: its own role, its own schema. */
export function prismaAdapterFor(
  service: ServiceName,
  config: Pick<BaseConfig, 'DATABASE_URL'>,
): PrismaPg {
  return new PrismaPg(
    { connectionString: config.DATABASE_URL, max: PRISMA_POOL_SIZE },
    { schema: serviceDatabase(service).schema },
  );
}
