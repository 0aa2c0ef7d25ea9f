import { z } from 'zod';
import { defineEvent, type EventOf } from '../envelope';
import { orderLinesSchema } from '../shared';
import { Topics } from '../topics';

/** Stock an order held went back to available, after the order was cancelled. */
export const StockReleased = defineEvent({
  type: 'StockReleased',
  version: 1,
  topic: Topics.inventoryEvents,
  payload: z.object({
    orderId: z.uuid(),
    items: orderLinesSchema,
  }),
  key: (payload) => payload.orderId,
});

export type StockReleasedEvent = EventOf<typeof StockReleased>;
