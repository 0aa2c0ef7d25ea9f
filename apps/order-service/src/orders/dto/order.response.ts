import { z } from 'zod';
import { orderLineSchema } from '@shop/contracts';
import { ORDER_STATUSES } from '../order-status';

export const orderViewSchema = z.object({
  id: z.uuid(),
  status: z.enum(ORDER_STATUSES),
  customerEmail: z.email(),
  items: z.array(orderLineSchema),
  /** Present when REJECTED: which SKU and why, in words. */
  rejectionReason: z.string().optional(),
  rejectionCode: z.enum(['UNKNOWN_SKU', 'INSUFFICIENT_STOCK']).optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export type OrderView = z.infer<typeof orderViewSchema>;

export const orderPageSchema = z.object({
  items: z.array(orderViewSchema),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
});

export type OrderPage = z.infer<typeof orderPageSchema>;
