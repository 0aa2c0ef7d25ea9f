import { Module } from '@nestjs/common';
import { OrdersConsumer } from './orders.consumer';
import { OrdersController } from './orders.controller';
import { OrdersService } from './orders.service';

@Module({
  controllers: [OrdersController, OrdersConsumer],
  providers: [OrdersService],
})
export class OrdersModule {}
