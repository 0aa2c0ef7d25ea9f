import { Controller } from '@nestjs/common';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderRejected,
  type OrderCancelledEvent,
  type OrderConfirmedEvent,
  type OrderRejectedEvent,
} from '@shop/contracts';
import { OnEvents } from '@shop/messaging';
import { NotificationsService } from './notifications.service';

/**
 * Everything the notification service consumes (group `notification-service`): the outcome of an
 * order, each of which the customer is emailed about. It produces no events.
 */
@Controller()
export class NotificationsConsumer {
  constructor(private readonly notifications: NotificationsService) {}

  @OnEvents(OrderConfirmed)
  async onOrderConfirmed(events: OrderConfirmedEvent[]): Promise<void> {
    await this.notifications.recordAll(events);
  }

  @OnEvents(OrderRejected)
  async onOrderRejected(events: OrderRejectedEvent[]): Promise<void> {
    await this.notifications.recordAll(events);
  }

  @OnEvents(OrderCancelled)
  async onOrderCancelled(events: OrderCancelledEvent[]): Promise<void> {
    await this.notifications.recordAll(events);
  }
}
