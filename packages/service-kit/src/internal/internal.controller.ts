import { Controller, Get, HttpCode, HttpStatus, Inject, Param, Post } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Pool } from 'pg';
import { z } from 'zod';
import { KafkaEventServer, type ConsumerFigures } from '@shop/messaging';
import { Roles } from '../auth/auth.guard';
import type { BaseConfig } from '../config/config';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { PG_POOL, SERVICE_CONFIG } from '../tokens';
import {
  InternalFactsRepository,
  type HandledEventFact,
  type OutboxFact,
  type OutboxFigures,
} from './internal-facts.repository';
import { SERVICE_FACTS, type ServiceFacts, type ServiceFigures } from './service-facts';

export const PUBLISHES_EVENTS = Symbol('PUBLISHES_EVENTS');

export interface ReplicaFigures {
  /** The consumer group this replica belongs to. */
  group: string;
  replica: string;
  consumer: ConsumerFigures;
  outbox: OutboxFigures | null;
  figures: ServiceFigures;
}

export interface OrderFacts {
  group: string;
  replica: string;
  handled: HandledEventFact[];
  outbox: OutboxFact[];
  records: Record<string, unknown>;
}

const orderId = new ZodValidationPipe(z.uuid(), 'order id');

/**
 * What this replica knows, for the flow console: read-only facts about one order and running
 * figures, plus pausing its consumer. Not part of the public API (left out of /docs): operator
 * tools (the flow console, test harnesses) and admins only.
 */
@ApiExcludeController()
@Roles('operator', 'admin')
@Controller('internal')
export class InternalController {
  private readonly facts: InternalFactsRepository;

  constructor(
    @Inject(PG_POOL) pool: Pool,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
    @Inject(PUBLISHES_EVENTS) private readonly publishesEvents: boolean,
    private readonly consumer: KafkaEventServer,
    private readonly moduleRef: ModuleRef,
  ) {
    this.facts = new InternalFactsRepository(pool);
  }

  @Get('figures')
  async figures(): Promise<ReplicaFigures> {
    const [outbox, figures] = await Promise.all([
      this.publishesEvents ? this.facts.outboxFigures() : null,
      this.serviceFacts()?.figures() ?? {},
    ]);
    return { ...this.identity(), consumer: this.consumer.figures(), outbox, figures };
  }

  @Get('orders/:id')
  async order(@Param('id', orderId) id: string): Promise<OrderFacts> {
    const [handled, outbox, records] = await Promise.all([
      this.facts.handledEvents(id),
      this.publishesEvents ? this.facts.outboxRows(id) : [],
      this.serviceFacts()?.aboutOrder(id) ?? {},
    ]);
    return { ...this.identity(), handled, outbox, records };
  }

  @Post('consumer/pause')
  @HttpCode(HttpStatus.OK)
  pause(): ConsumerFigures {
    this.consumer.pauseConsumption();
    return this.consumer.figures();
  }

  @Post('consumer/resume')
  @HttpCode(HttpStatus.OK)
  resume(): ConsumerFigures {
    this.consumer.resumeConsumption();
    return this.consumer.figures();
  }

  private identity(): { group: string; replica: string } {
    return { group: this.config.KAFKA_GROUP_ID, replica: this.config.REPLICA_ID };
  }

  private serviceFacts(): ServiceFacts | undefined {
    try {
      return this.moduleRef.get<ServiceFacts>(SERVICE_FACTS, { strict: false });
    } catch {
      return undefined;
    }
  }
}
