import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { prismaAdapterFor, SERVICE_CONFIG, TRANSACTION_OPTIONS } from '@shop/service-kit';
import { PrismaClient } from '../generated/prisma/client';
import type { NotificationConfig } from '../config/notification-config';

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(SERVICE_CONFIG) config: NotificationConfig) {
    super({
      adapter: prismaAdapterFor('notification-service', config),
      transactionOptions: TRANSACTION_OPTIONS,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
