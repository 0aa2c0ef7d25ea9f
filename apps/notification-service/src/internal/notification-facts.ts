import { Injectable } from '@nestjs/common';
import type { ServiceFacts, ServiceFigures } from '@shop/service-kit';
import { PrismaService } from '../prisma/prisma.service';

/** An order's emails and the mail queue, as the flow console shows them. */
@Injectable()
export class NotificationFacts implements ServiceFacts {
  constructor(private readonly prisma: PrismaService) {}

  async aboutOrder(orderId: string): Promise<Record<string, unknown>> {
    const notifications = await this.prisma.notification.findMany({
      where: { orderId },
      orderBy: { createdAt: 'asc' },
    });
    return {
      notifications: notifications.map((notification) => ({
        type: notification.type,
        status: notification.status,
        recipient: notification.recipient,
        attempts: notification.attempts,
        createdAt: notification.createdAt.toISOString(),
        sentAt: notification.sentAt?.toISOString() ?? null,
        lastError: notification.lastError,
      })),
    };
  }

  async figures(): Promise<ServiceFigures> {
    const [emailsPending, emailsFailed] = await Promise.all([
      this.prisma.notification.count({ where: { status: 'PENDING' } }),
      this.prisma.notification.count({ where: { status: 'FAILED' } }),
    ]);
    return { emailsPending, emailsFailed };
  }
}
