import { z } from 'zod';

export const listNotificationsQuerySchema = z
  .object({
    orderId: z.uuid({
      error: (issue) =>
        issue.input === undefined ? 'required: the id of the order' : 'must be a UUID',
    }),
  })
  .strict();

export type ListNotificationsQuery = z.output<typeof listNotificationsQuerySchema>;
