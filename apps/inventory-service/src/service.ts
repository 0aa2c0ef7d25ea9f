import { join } from 'node:path';
import type { ServiceDefinition } from '@shop/service-kit';
import { AppModule } from './app.module';
import { inventoryConfigSchema } from './config/inventory-config';

export const inventoryService: ServiceDefinition<typeof inventoryConfigSchema> = {
  name: 'inventory-service',
  configSchema: inventoryConfigSchema,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
  module: (config, logger) => AppModule.register(config, logger),
  openApi: {
    title: 'Inventory service',
    description:
      'Owns products and stock; reserves and releases stock for orders it learns of over Kafka.',
  },
};
