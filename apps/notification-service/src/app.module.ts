import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { PlatformModule } from '@shop/service-kit';
import type { NotificationConfig } from './config/notification-config';
import { NotificationsModule } from './notifications/notifications.module';

@Module({})
export class AppModule {
  static register(config: NotificationConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService({ config, logger, publishesEvents: false }),
        NotificationsModule,
      ],
    };
  }
}
