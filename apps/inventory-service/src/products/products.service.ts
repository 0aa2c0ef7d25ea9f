import { Injectable } from '@nestjs/common';
import type { Product } from '../generated/prisma/client';
import { PrismaService } from '../prisma/prisma.service';
import type {
  ListProductsQuery,
  ProductPage,
  ProductView,
  PutProductDto,
} from './dto/put-product.dto';

export class ProductNotFoundError extends Error {
  constructor(readonly sku: string) {
    super(`product ${sku} does not exist`);
  }
}

@Injectable()
export class ProductsService {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates the product or sets its available stock; what live orders hold is untouched. */
  async put(sku: string, input: PutProductDto): Promise<ProductView> {
    const product = await this.prisma.product.upsert({
      where: { sku },
      create: { sku, name: input.name, available: input.stock },
      update: { name: input.name, available: input.stock },
    });
    return toView(product);
  }

  async get(sku: string): Promise<ProductView> {
    const product = await this.prisma.product.findUnique({ where: { sku } });
    if (!product) throw new ProductNotFoundError(sku);
    return toView(product);
  }

  async list(query: ListProductsQuery): Promise<ProductPage> {
    const products = await this.prisma.product.findMany({
      where: query.after ? { sku: { gt: query.after } } : {},
      orderBy: { sku: 'asc' },
      take: query.limit + 1,
    });
    const page = products.slice(0, query.limit);
    return {
      items: page.map(toView),
      nextAfter: products.length > query.limit ? (page.at(-1)?.sku ?? null) : null,
    };
  }
}

function toView(product: Product): ProductView {
  return {
    sku: product.sku,
    name: product.name,
    available: product.available,
    reserved: product.reserved,
    updatedAt: product.updatedAt.toISOString(),
  };
}
