import { z } from 'zod';
import { NOTIFICATION_TYPES } from '../email-templates';

export const NOTIFICATION_STATUSES = ['PENDING', 'SENT', 'FAILED'] as const;

export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const notificationViewSchema = z.object({
  id: z.uuid(),
  orderId: z.uuid(),
  type: z.enum(NOTIFICATION_TYPES),
  recipient: z.email(),
  subject: z.string(),
  status: z.enum(NOTIFICATION_STATUSES),
  /** Send attempts so far; a failed one is retried with backoff. */
  attempts: z.number().int().nonnegative(),
  sentAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});

export type NotificationView = z.infer<typeof notificationViewSchema>;
