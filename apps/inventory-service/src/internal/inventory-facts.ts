import { Injectable } from '@nestjs/common';
import type { ServiceFacts, ServiceFigures } from '@shop/service-kit';
import { PrismaService } from '../prisma/prisma.service';

/** What inventory holds for an order, as the flow console shows it beside the order's events. */
@Injectable()
export class InventoryFacts implements ServiceFacts {
  constructor(private readonly prisma: PrismaService) {}

  async aboutOrder(orderId: string): Promise<Record<string, unknown>> {
    const reservations = await this.prisma.reservation.findMany({
      where: { orderId },
      orderBy: { sku: 'asc' },
    });
    return {
      reservations: reservations.map((reservation) => ({
        sku: reservation.sku,
        quantity: reservation.quantity,
        status: reservation.status,
        createdAt: reservation.createdAt.toISOString(),
        releasedAt: reservation.releasedAt?.toISOString() ?? null,
      })),
    };
  }

  async figures(): Promise<ServiceFigures> {
    return {};
  }
}
