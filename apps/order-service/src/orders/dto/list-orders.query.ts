import { z } from 'zod';
import { queryInteger } from '@shop/service-kit';
import { ORDER_STATUSES } from '../order-status';

export const listOrdersQuerySchema = z
  .object({
    status: z.enum(ORDER_STATUSES).optional(),
    limit: queryInteger({ min: 1, max: 100, fallback: 20 }),
    cursor: z.string().max(200).describe('Opaque: the nextCursor of the previous page').optional(),
  })
  .strict();

export type ListOrdersQuery = z.output<typeof listOrdersQuerySchema>;
