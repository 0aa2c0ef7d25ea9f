import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { PlatformModule, SERVICE_FACTS } from '@shop/service-kit';
import type { OrderConfig } from './config/order-config';
import { OrdersModule } from './orders/orders.module';
import { OrderFacts } from './internal/order-facts';
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
      providers: [{ provide: SERVICE_FACTS, useClass: OrderFacts }],
    };
  }
}
