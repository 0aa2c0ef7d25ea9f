import { Injectable } from '@nestjs/common';
import type { Product } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';

/** How the catalogue and its stock levels are stored. */
@Injectable()
export class ProductsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the product or sets its name and available stock; `reserved` is left as it is. */
  save(sku: string, name: string, available: number): Promise<Product> {
    return this.prisma.product.upsert({
      where: { sku },
      create: { sku, name, available },
      update: { name, available },
    });
  }

  find(sku: string): Promise<Product | null> {
    return this.prisma.product.findUnique({ where: { sku } });
  }

  /** In SKU order; `after` continues past the given SKU. */
  findPage(after: string | undefined, take: number): Promise<Product[]> {
    return this.prisma.product.findMany({
      where: after ? { sku: { gt: after } } : {},
      orderBy: { sku: 'asc' },
      take,
    });
  }
}
