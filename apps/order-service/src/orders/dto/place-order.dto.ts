import { z } from 'zod';
import { skuSchema } from '@shop/contracts';

export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 10_000;

export const placeOrderSchema = z
  .object({
    customerEmail: z.email().max(254),
    items: z
      .array(
        z.strictObject({
          sku: skuSchema,
          quantity: z.number().int().positive().max(MAX_LINE_QUANTITY),
        }),
      )
      .min(1)
      .max(MAX_ORDER_LINES)
      .refine((items) => new Set(items.map((item) => item.sku)).size === items.length, {
        message: 'each SKU may appear only once; add up the quantities instead',
      }),
  })
  .strict();

export type PlaceOrderDto = z.output<typeof placeOrderSchema>;
