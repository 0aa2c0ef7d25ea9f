import { Controller, Get, HttpStatus, Inject, Optional, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Pool } from 'pg';
import { KafkaEventPublisher, KafkaEventServer } from '@shop/messaging';
import type { Logger } from '@shop/logging';
import { Public } from '../auth/auth.guard';
import { LOGGER, PG_POOL } from '../tokens';

interface Check {
  ok: boolean;
  detail?: string;
}

/** 200 when the database answers, Kafka is connected and the consumers have joined; 503 names what is missing. */
@ApiExcludeController()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly consumer: KafkaEventServer,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() private readonly publisher?: KafkaEventPublisher,
  ) {}

  @Get()
  async check(@Res() response: Response): Promise<void> {
    const checks: Record<string, Check> = { database: await this.database() };
    if (this.publisher) {
      checks.kafkaProducer = this.publisher.isConnected
        ? { ok: true }
        : { ok: false, detail: 'producer not connected to Kafka' };
    }
    if (this.consumer.handledContracts().length > 0) {
      checks.kafkaConsumer = this.consumer.isReady
        ? { ok: true }
        : {
            ok: false,
            detail: `consumer group not joined (state: ${this.consumer.consumerState})`,
          };
    }
    const missing = Object.entries(checks)
      .filter(([, check]) => !check.ok)
      .map(([name]) => name);
    response
      .status(missing.length === 0 ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
      .json({ status: missing.length === 0 ? 'ok' : 'unavailable', missing, checks });
  }

  private async database(): Promise<Check> {
    try {
      await this.pool.query('SELECT 1');
      return { ok: true };
    } catch (error) {
      // The cause goes to the log; anyone may call /health, and a driver's message names hosts.
      this.logger.warn({ err: error }, 'health check: the database did not answer');
      return { ok: false, detail: 'the database did not answer' };
    }
  }
}
