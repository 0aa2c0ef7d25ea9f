import { z } from 'zod';
import { skuSchema } from '@shop/contracts';

export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 10_000;

/**
 * The body names what is ordered, nothing about who orders it: the order is the caller's, and its
 * email is the one their access token carries. A body that still sends `customerEmail` is
 * refused with a 400 saying so, rather than silently ignoring a field the caller meant.
 */
export const placeOrderSchema = z.strictObject(
  {
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
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' && issue.keys.includes('customerEmail')
        ? 'customerEmail is not accepted: the order goes to the email in your access token'
        : undefined,
  },
);

export type PlaceOrderDto = z.output<typeof placeOrderSchema>;
