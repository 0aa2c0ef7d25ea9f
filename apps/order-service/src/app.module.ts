import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { PlatformModule } from '@shop/service-kit';
import type { OrderConfig } from './config/order-config';
import { OrdersModule } from './orders/orders.module';
import { PrismaModule } from './prisma/prisma.module';

@Module({})
export class AppModule {
  static register(config: OrderConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService({ config, logger, publishesEvents: true }),
        PrismaModule,
        OrdersModule,
      ],
    };
  }
}
