import { Module } from '@nestjs/common';
import { IdempotencyKeysSweeper } from './idempotency-keys.sweeper';
import { OrdersConsumer } from './orders.consumer';
import { OrdersController } from './orders.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

@Module({
  controllers: [OrdersController, OrdersConsumer],
  providers: [OrdersService, OrdersRepository, IdempotencyKeysSweeper],
})
export class OrdersModule {}
