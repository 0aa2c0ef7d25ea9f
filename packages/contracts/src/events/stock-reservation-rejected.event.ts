import { z } from 'zod';
import { defineEvent, type EventOf } from '../envelope';
import { skuSchema } from '../shared';
import { Topics } from '../topics';

export const reservationRejectionSchema = z.discriminatedUnion('code', [
  z.object({ code: z.literal('UNKNOWN_SKU'), sku: skuSchema }),
  z.object({
    code: z.literal('INSUFFICIENT_STOCK'),
    sku: skuSchema,
    requested: z.number().int().positive(),
    available: z.number().int().nonnegative(),
  }),
]);

export type ReservationRejection = z.infer<typeof reservationRejectionSchema>;

/** Nothing was reserved for the order: one line named in the reason could not be. */
export const StockReservationRejected = defineEvent({
  type: 'StockReservationRejected',
  version: 1,
  topic: Topics.inventoryEvents,
  payload: z.object({
    orderId: z.uuid(),
    reason: reservationRejectionSchema,
  }),
  key: (payload) => payload.orderId,
});

export type StockReservationRejectedEvent = EventOf<typeof StockReservationRejected>;

export function describeRejection(reason: ReservationRejection): string {
  switch (reason.code) {
    case 'UNKNOWN_SKU':
      return `unknown SKU ${reason.sku}`;
    case 'INSUFFICIENT_STOCK':
      return `insufficient stock for SKU ${reason.sku}: requested ${reason.requested}, available ${reason.available}`;
  }
}
