import { Controller } from '@nestjs/common';
import {
  StockReservationRejected,
  StockReserved,
  type StockReservationRejectedEvent,
  type StockReservedEvent,
} from '@shop/contracts';
import { OnEvent } from '@shop/messaging';
import { OrdersService } from './orders.service';

/**
 * Everything the order service consumes (group `order-service`): inventory's answer to an order.
 * It produces, through its outbox: OrderPlaced, OrderConfirmed, OrderRejected, OrderCancelled.
 */
@Controller()
export class OrdersConsumer {
  constructor(private readonly orders: OrdersService) {}

  @OnEvent(StockReserved)
  async onStockReserved(event: StockReservedEvent): Promise<void> {
    await this.orders.confirm(event);
  }

  @OnEvent(StockReservationRejected)
  async onStockReservationRejected(event: StockReservationRejectedEvent): Promise<void> {
    await this.orders.reject(event);
  }
}
