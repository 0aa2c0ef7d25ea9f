import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { prismaAdapterFor, SERVICE_CONFIG } from '@shop/service-kit';
import { PrismaClient } from '../generated/prisma/client';
import type { InventoryConfig } from '../config/inventory-config';

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(SERVICE_CONFIG) config: InventoryConfig) {
    super({ adapter: prismaAdapterFor('inventory-service', config) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
