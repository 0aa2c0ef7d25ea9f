import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@shop/logging';
import { LOGGER, retryTransient } from '@shop/service-kit';
import type { Product } from '../generated/prisma/client';
import type {
  ListProductsQuery,
  ProductPage,
  ProductView,
  PutProductDto,
} from './dto/put-product.dto';
import { ProductsRepository } from './products.repository';

export class ProductNotFoundError extends Error {
  constructor(readonly sku: string) {
    super(`product ${sku} does not exist`);
  }
}

@Injectable()
export class ProductsService {
  constructor(
    private readonly products: ProductsRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Creates the product or sets its available stock; what live orders hold is untouched. */
  async put(sku: string, input: PutProductDto): Promise<ProductView> {
    // Setting the same values twice is harmless, so a write cut off by a restart is just retried.
    const product = await this.retrying(() => this.products.save(sku, input.name, input.stock));
    return toView(product);
  }

  async get(sku: string): Promise<ProductView> {
    const product = await this.retrying(() => this.products.find(sku));
    if (!product) throw new ProductNotFoundError(sku);
    return toView(product);
  }

  async list(query: ListProductsQuery): Promise<ProductPage> {
    const products = await this.retrying(() =>
      this.products.findPage(query.after, query.limit + 1),
    );
    const page = products.slice(0, query.limit);
    return {
      items: page.map(toView),
      nextAfter: products.length > query.limit ? (page.at(-1)?.sku ?? null) : null,
    };
  }

  /** Rides out a database restart: transient failures are retried for up to ~10 s. */
  private retrying<T>(work: () => Promise<T>): Promise<T> {
    return retryTransient(work, {
      onRetry: (error, attempt, delayMs) =>
        this.logger[attempt === 1 ? 'warn' : 'debug'](
          { err: error, attempt, delayMs },
          'database unavailable; retrying',
        ),
    });
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
