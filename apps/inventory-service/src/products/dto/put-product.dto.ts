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

export interface ProductView {
  sku: string;
  name: string;
  available: number;
  reserved: number;
  updatedAt: string;
}
