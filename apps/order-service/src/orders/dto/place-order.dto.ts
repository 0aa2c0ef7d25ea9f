import { z } from 'zod';
import { skuSchema } from '@shop/contracts';

export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 10_000;

export const placeOrderSchema = z
  .object({
    // RFC 5321: a local part of at most 64 octets, domain labels of at most 63, 254 in all.
    customerEmail: z
      .email()
      .max(254)
      .refine((email) => (email.split('@')[0] ?? '').length <= 64, {
        message: 'the part before @ may be at most 64 characters',
      })
      .refine(
        (email) => (email.split('@')[1] ?? '').split('.').every((label) => label.length <= 63),
        {
          message: 'each part of the domain may be at most 63 characters',
        },
      ),
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
