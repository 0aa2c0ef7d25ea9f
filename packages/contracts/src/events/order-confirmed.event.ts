import { z } from 'zod';
import { defineEvent, type EventOf } from '../envelope';
import { orderLinesSchema } from '../shared';
import { Topics } from '../topics';

/** Stock for every line of the order is held; the order will be fulfilled. */
export const OrderConfirmed = defineEvent({
  type: 'OrderConfirmed',
  version: 1,
  topic: Topics.orderEvents,
  payload: z.object({
    orderId: z.uuid(),
    customerEmail: z.email(),
    items: orderLinesSchema,
  }),
  key: (payload) => payload.orderId,
});

export type OrderConfirmedEvent = EventOf<typeof OrderConfirmed>;
