import { join } from 'node:path';
import type { ServiceDefinition } from '@shop/service-kit';
import { AppModule } from './app.module';
import { notificationConfigSchema } from './config/notification-config';

export const notificationService: ServiceDefinition<typeof notificationConfigSchema> = {
  name: 'notification-service',
  configSchema: notificationConfigSchema,
  migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
  module: (config, logger) => AppModule.register(config, logger),
  openApi: {
    title: 'Notification service',
    description:
      'Emails the customer when an order is confirmed, rejected or cancelled; lists what was sent per order.',
  },
};
