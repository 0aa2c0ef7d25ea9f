import { Body, Controller, Get, NotFoundException, Param, Put, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { skuSchema } from '@shop/contracts';
import { errorResponseSchema, openApiSchema, ZodValidationPipe } from '@shop/service-kit';
import {
  listProductsQuerySchema,
  productPageSchema,
  productViewSchema,
  putProductSchema,
  type ListProductsQuery,
  type ProductPage,
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
  @ApiBody({ schema: openApiSchema(putProductSchema, 'input') })
  @ApiBadRequestResponse({
    description: 'The body names each invalid field',
    schema: openApiSchema(errorResponseSchema),
  })
  @ApiOkResponse({
    description: 'The product with its available and reserved stock',
    schema: openApiSchema(productViewSchema),
  })
  put(
    @Param('sku', sku) productSku: string,
    @Body(new ZodValidationPipe(putProductSchema, 'product')) body: PutProductDto,
  ): Promise<ProductView> {
    return this.products.put(productSku, body);
  }

  @Get()
  @ApiOkResponse({
    description: 'Products by SKU; pass nextAfter as `after` for the next page',
    schema: openApiSchema(productPageSchema),
  })
  list(
    @Query(new ZodValidationPipe(listProductsQuerySchema, 'query')) query: ListProductsQuery,
  ): Promise<ProductPage> {
    return this.products.list(query);
  }

  @Get(':sku')
  @ApiOkResponse({ description: 'The product', schema: openApiSchema(productViewSchema) })
  @ApiNotFoundResponse({
    description: 'No product with this SKU',
    schema: openApiSchema(errorResponseSchema),
  })
  async get(@Param('sku', sku) productSku: string): Promise<ProductView> {
    try {
      return await this.products.get(productSku);
    } catch (error) {
      if (error instanceof ProductNotFoundError) throw new NotFoundException(error.message);
      throw error;
    }
  }
}
