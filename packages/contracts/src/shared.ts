import { z } from 'zod';

export const skuSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-"');

export const orderLineSchema = z.object({
  sku: skuSchema,
  quantity: z.number().int().positive(),
});

export type OrderLine = z.infer<typeof orderLineSchema>;

export const orderLinesSchema = z.array(orderLineSchema).min(1);
