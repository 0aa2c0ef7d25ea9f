import { z } from 'zod';
import { defineEvent, type EventOf } from '../envelope';
import { reservationRejectionSchema } from './stock-reservation-rejected.event';
import { Topics } from '../topics';

/** The order cannot be fulfilled; the reason says which SKU and why. */
export const OrderRejected = defineEvent({
  type: 'OrderRejected',
  version: 1,
  topic: Topics.orderEvents,
  payload: z.object({
    orderId: z.uuid(),
    customerEmail: z.email(),
    reason: reservationRejectionSchema,
  }),
  key: (payload) => payload.orderId,
});

export type OrderRejectedEvent = EventOf<typeof OrderRejected>;
