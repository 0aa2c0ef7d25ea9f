import { Controller } from '@nestjs/common';
import {
  StockReservationRejected,
  StockReserved,
  type StockReservationRejectedEvent,
  type StockReservedEvent,
} from '@shop/contracts';
import { OnEvents } from '@shop/messaging';
import { OrdersService } from './orders.service';

/**
 * Everything the order service consumes (group `order-service`): inventory's answer to an order.
 * It produces, through its outbox: OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled.
 */
@Controller()
export class OrdersConsumer {
  constructor(private readonly orders: OrdersService) {}

  @OnEvents(StockReserved)
  async onStockReserved(events: StockReservedEvent[]): Promise<void> {
    await this.orders.confirmAll(events);
  }

  @OnEvents(StockReservationRejected)
  async onStockReservationRejected(events: StockReservationRejectedEvent[]): Promise<void> {
    await this.orders.rejectAll(events);
  }
}
