import { z } from 'zod';
import { defineEvent, type EventOf } from '../envelope';
import { orderLinesSchema } from '../shared';
import { Topics } from '../topics';

/** Every line of the order is reserved, all in one transaction. */
export const StockReserved = defineEvent({
  type: 'StockReserved',
  version: 1,
  topic: Topics.inventoryEvents,
  payload: z.object({
    orderId: z.uuid(),
    items: orderLinesSchema,
  }),
  key: (payload) => payload.orderId,
});

export type StockReservedEvent = EventOf<typeof StockReserved>;
