import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { serviceDatabase } from '@shop/database';
import { SERVICE_CONFIG } from '@shop/service-kit';
import { PrismaClient } from '../generated/prisma/client';
import type { NotificationConfig } from '../config/notification-config';

@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(SERVICE_CONFIG) config: NotificationConfig) {
    super({
      adapter: new PrismaPg(
        { connectionString: config.DATABASE_URL, max: 10 },
        { schema: serviceDatabase('notification-service').schema },
      ),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
