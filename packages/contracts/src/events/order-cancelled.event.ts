import { z } from 'zod';
import { defineEvent, type EventOf } from '../envelope';
import { orderLinesSchema } from '../shared';
import { Topics } from '../topics';

/** The customer cancelled the order; whatever stock it held is to be released. */
export const OrderCancelled = defineEvent({
  type: 'OrderCancelled',
  version: 1,
  topic: Topics.orderEvents,
  payload: z.object({
    orderId: z.uuid(),
    customerEmail: z.email(),
    items: orderLinesSchema,
    previousStatus: z.enum(['PENDING', 'CONFIRMED']),
  }),
  key: (payload) => payload.orderId,
});

export type OrderCancelledEvent = EventOf<typeof OrderCancelled>;
