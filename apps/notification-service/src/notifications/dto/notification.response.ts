import type { NotificationType } from '../email-templates';

export const NOTIFICATION_STATUSES = ['PENDING', 'SENT', 'FAILED'] as const;

export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export interface NotificationView {
  id: string;
  orderId: string;
  type: NotificationType;
  recipient: string;
  subject: string;
  status: NotificationStatus;
  attempts: number;
  sentAt: string | null;
  createdAt: string;
}
