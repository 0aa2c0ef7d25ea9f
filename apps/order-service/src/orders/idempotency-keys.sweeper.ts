import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { LOGGER } from '@shop/service-kit';
import { PrismaService } from '../prisma/prisma.service';

/** How long a repeat with the same Idempotency-Key still gets the first answer. */
export const IDEMPOTENCY_KEY_RETENTION_HOURS = 24;
const SWEEP_INTERVAL_MS = 60 * 60 * 1_000;

/**
 * Deletes idempotency keys older than the retention, hourly, so the table stays as small as a
 * day of orders. Replicas may sweep at the same time: deleting twice is harmless.
 */
@Injectable()
export class IdempotencyKeysSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prisma: PrismaService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'sweeping idempotency keys failed; next try in an hour'),
      );
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Returns how many keys were deleted. The database's clock decides, not this process's. */
  async sweep(): Promise<number> {
    const deleted = await this.prisma.$executeRaw`
      DELETE FROM idempotency_keys
      WHERE created_at < now() - make_interval(hours => ${IDEMPOTENCY_KEY_RETENTION_HOURS}::int)`;
    if (deleted > 0) this.logger.info({ deleted }, 'expired idempotency keys deleted');
    return deleted;
  }
}
