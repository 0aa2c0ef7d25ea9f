import { Body, Controller, Get, NotFoundException, Param, Put, Query } from '@nestjs/common';
import { ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { skuSchema } from '@shop/contracts';
import { ZodValidationPipe } from '@shop/service-kit';
import {
  listProductsQuerySchema,
  putProductSchema,
  type ListProductsQuery,
  type ProductView,
  type PutProductDto,
} from './dto/put-product.dto';
import { ProductNotFoundError, ProductsService } from './products.service';

const sku = new ZodValidationPipe(skuSchema, 'sku');

@ApiTags('products')
@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Put(':sku')
  @ApiBody({ schema: z.toJSONSchema(putProductSchema, { io: 'input' }) as object })
  @ApiOkResponse({ description: 'The product with its available and reserved stock' })
  put(
    @Param('sku', sku) productSku: string,
    @Body(new ZodValidationPipe(putProductSchema, 'product')) body: PutProductDto,
  ): Promise<ProductView> {
    return this.products.put(productSku, body);
  }

  @Get()
  @ApiOkResponse({ description: 'Products by SKU; pass nextAfter as `after` for the next page' })
  list(@Query(new ZodValidationPipe(listProductsQuerySchema, 'query')) query: ListProductsQuery) {
    return this.products.list(query);
  }

  @Get(':sku')
  @ApiOkResponse({ description: 'The product' })
  @ApiNotFoundResponse({ description: 'No product with this SKU' })
  async get(@Param('sku', sku) productSku: string): Promise<ProductView> {
    try {
      return await this.products.get(productSku);
    } catch (error) {
      if (error instanceof ProductNotFoundError) throw new NotFoundException(error.message);
      throw error;
    }
  }
}
