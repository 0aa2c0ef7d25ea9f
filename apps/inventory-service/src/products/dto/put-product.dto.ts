import { z } from 'zod';
import { skuSchema } from '@shop/contracts';
import { queryInteger } from '@shop/service-kit';

export const MAX_STOCK = 1_000_000_000;

export const putProductSchema = z
  .object({
    // Postgres text cannot hold NUL, and no product name needs a control character, nor an
    // invisible one (zero-width, byte-order mark) or one that reverses the text around it.
    name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'must not contain control, invisible or direction characters'),
    /** What can be reserved from now on; stock already held by orders stays reserved. */
    stock: z.number().int().min(0).max(MAX_STOCK),
  })
  .strict();

export type PutProductDto = z.output<typeof putProductSchema>;

export const listProductsQuerySchema = z
  .object({
    limit: queryInteger({ min: 1, max: 500, fallback: 100 }),
    after: skuSchema.describe('The last SKU of the previous page (its nextAfter)').optional(),
  })
  .strict();

export type ListProductsQuery = z.output<typeof listProductsQuerySchema>;

export const productViewSchema = z.object({
  sku: z.string(),
  name: z.string(),
  /** What can still be reserved. */
  available: z.number().int().nonnegative(),
  /** What live orders hold. */
  reserved: z.number().int().nonnegative(),
  updatedAt: z.iso.datetime(),
});

export type ProductView = z.infer<typeof productViewSchema>;

export const productPageSchema = z.object({
  items: z.array(productViewSchema),
  /** Pass as `after` for the next page; null on the last page. */
  nextAfter: z.string().nullable(),
});

export type ProductPage = z.infer<typeof productPageSchema>;
