import { z } from 'zod';
import { defineEvent, type EventOf } from '../envelope';
import { orderLinesSchema } from '../shared';
import { Topics } from '../topics';

/** A customer placed an order; inventory decides whether it can be fulfilled. */
export const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  version: 1,
  topic: Topics.orderEvents,
  payload: z.object({
    orderId: z.uuid(),
    customerEmail: z.email(),
    items: orderLinesSchema,
  }),
  key: (payload) => payload.orderId,
});

export type OrderPlacedEvent = EventOf<typeof OrderPlaced>;
