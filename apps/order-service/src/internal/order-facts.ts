import { Injectable } from '@nestjs/common';
import type { ServiceFacts, ServiceFigures } from '@shop/service-kit';
import { PrismaService } from '../prisma/prisma.service';

/** The order row, as the flow console shows it beside the order's events. */
@Injectable()
export class OrderFacts implements ServiceFacts {
  constructor(private readonly prisma: PrismaService) {}

  async aboutOrder(orderId: string): Promise<Record<string, unknown>> {
    const order = await this.prisma.order.findUnique({ where: { id: orderId } });
    return {
      order: order && {
        status: order.status,
        customerEmail: order.customerEmail,
        rejectionReason: order.rejectionReason,
        createdAt: order.createdAt.toISOString(),
        updatedAt: order.updatedAt.toISOString(),
      },
    };
  }

  async figures(): Promise<ServiceFigures> {
    return { ordersPending: await this.prisma.order.count({ where: { status: 'PENDING' } }) };
  }
}
