import { Controller } from '@nestjs/common';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderRejected,
  type OrderCancelledEvent,
  type OrderConfirmedEvent,
  type OrderRejectedEvent,
} from '@shop/contracts';
import { OnEvent } from '@shop/messaging';
import { NotificationsService } from './notifications.service';

/**
 * Everything the notification service consumes (group `notification-service`): the outcome of an
 * order, each of which the customer is emailed about. It produces no events.
 */
@Controller()
export class NotificationsConsumer {
  constructor(private readonly notifications: NotificationsService) {}

  @OnEvent(OrderConfirmed)
  async onOrderConfirmed(event: OrderConfirmedEvent): Promise<void> {
    await this.notifications.record(event);
  }

  @OnEvent(OrderRejected)
  async onOrderRejected(event: OrderRejectedEvent): Promise<void> {
    await this.notifications.record(event);
  }

  @OnEvent(OrderCancelled)
  async onOrderCancelled(event: OrderCancelledEvent): Promise<void> {
    await this.notifications.record(event);
  }
}
