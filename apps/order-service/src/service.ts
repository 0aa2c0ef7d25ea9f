import { join } from 'node:path';
import type { ServiceDefinition } from '@shop/service-kit';
import { AppModule } from './app.module';
import { orderConfigSchema } from './config/order-config';

export const orderService: ServiceDefinition<typeof orderConfigSchema> = {
  name: 'order-service',
  configSchema: orderConfigSchema,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
  module: (config, logger) => AppModule.register(config, logger),
  openApi: {
    title: 'Order service',
    description:
      'Places orders and answers at once (202); stock and email are handled asynchronously over Kafka.',
  },
};
