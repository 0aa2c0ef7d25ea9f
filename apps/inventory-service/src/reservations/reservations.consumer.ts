import { Controller } from '@nestjs/common';
import {
  OrderCancelled,
  OrderPlaced,
  type OrderCancelledEvent,
  type OrderPlacedEvent,
} from '@shop/contracts';
import { OnEvent, OnEvents } from '@shop/messaging';
import { ReservationsService } from './reservations.service';

/**
 * Everything the inventory service consumes (group `inventory-service`): orders placed and cancelled.
 * It produces, through its outbox: StockReserved, StockReservationRejected, StockReleased.
 */
@Controller()
export class ReservationsConsumer {
  constructor(private readonly reservations: ReservationsService) {}

  /** Batched for throughput: one transaction per fetched run of orders instead of one per order. */
  @OnEvents(OrderPlaced)
  async onOrdersPlaced(events: OrderPlacedEvent[]): Promise<void> {
    await this.reservations.reserveAll(events);
  }

  @OnEvent(OrderCancelled)
  async onOrderCancelled(event: OrderCancelledEvent): Promise<void> {
    await this.reservations.release(event);
  }
}
