import { z } from 'zod';

export const MAX_STOCK = 1_000_000_000;

export const putProductSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** What can be reserved from now on; stock already held by orders stays reserved. */
    stock: z.number().int().min(0).max(MAX_STOCK),
  })
  .strict();

export type PutProductDto = z.output<typeof putProductSchema>;

export const listProductsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    /** The last SKU of the previous page. */
    after: z.string().max(64).optional(),
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
