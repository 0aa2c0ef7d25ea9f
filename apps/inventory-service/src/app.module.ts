import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { PlatformModule, SERVICE_FACTS } from '@shop/service-kit';
import type { InventoryConfig } from './config/inventory-config';
import { InventoryFacts } from './internal/inventory-facts';
import { PrismaModule } from './prisma/prisma.module';
import { ProductsModule } from './products/products.module';
import { ReservationsModule } from './reservations/reservations.module';

@Module({})
export class AppModule {
  static register(config: InventoryConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService({ config, logger, publishesEvents: true }),
        PrismaModule,
        ProductsModule,
        ReservationsModule,
      ],
      providers: [{ provide: SERVICE_FACTS, useClass: InventoryFacts }],
    };
  }
}
