import {
  describeRejection,
  type OrderCancelledEvent,
  type OrderConfirmedEvent,
  type OrderLine,
  type OrderRejectedEvent,
} from '@shop/contracts';

export const NOTIFICATION_TYPES = ['ORDER_CONFIRMED', 'ORDER_REJECTED', 'ORDER_CANCELLED'] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The order events a customer is emailed about. */
export type OrderNotificationEvent = OrderConfirmedEvent | OrderRejectedEvent | OrderCancelledEvent;

export interface RenderedEmail {
  type: NotificationType;
  subject: string;
  text: string;
}

const SIGN_OFF = 'Thank you for shopping with us.';

/** The email a customer receives for an order event: a subject naming the order and a plain-text body. */
export function renderEmail(event: OrderNotificationEvent): RenderedEmail {
  const { orderId } = event.payload;
  const order = shortOrderId(orderId);
  switch (event.type) {
    case 'OrderConfirmed':
      return {
        type: 'ORDER_CONFIRMED',
        subject: `Your order ${order} is confirmed`,
        text: paragraphs(
          `Your order ${order} is confirmed: every item is reserved for you.`,
          itemList(event.payload.items),
          reference(orderId),
          SIGN_OFF,
        ),
      };
    case 'OrderRejected':
      return {
        type: 'ORDER_REJECTED',
        subject: `Your order ${order} could not be accepted`,
        text: paragraphs(
          `We are sorry: your order ${order} could not be accepted.`,
          `Reason: ${describeRejection(event.payload.reason)}.`,
          'Nothing was reserved for this order. You are welcome to place it again with other quantities.',
          reference(orderId),
        ),
      };
    case 'OrderCancelled':
      return {
        type: 'ORDER_CANCELLED',
        subject: `Your order ${order} is cancelled`,
        text: paragraphs(
          `Your order ${order} is cancelled, as requested. Any stock reserved for it has been released.`,
          itemList(event.payload.items),
          reference(orderId),
          SIGN_OFF,
        ),
      };
  }
}

/** The first block of the order id: enough for a person to recognise the order in a subject line. */
export function shortOrderId(orderId: string): string {
  return orderId.slice(0, 8);
}

function itemList(items: readonly OrderLine[]): string {
  return ['Items:', ...items.map((item) => `  - ${item.sku} × ${item.quantity}`)].join('\n');
}

function reference(orderId: string): string {
  return `Order reference: ${orderId}`;
}

function paragraphs(...blocks: string[]): string {
  return `Hello,\n\n${blocks.join('\n\n')}\n`;
}
