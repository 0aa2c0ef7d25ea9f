import { Body, Controller, Get, NotFoundException, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { skuSchema } from '@shop/contracts';
import {
  ApiErrorResponses,
  ApiQueryFrom,
  AUTH_ERROR_RESPONSES,
  openApiSchema,
  Roles,
  ZodValidationPipe,
} from '@shop/service-kit';
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
const skuParam = ApiParam({ name: 'sku', schema: openApiSchema(skuSchema, 'input') });
const unavailable = 'The database is unavailable for a moment; retry after Retry-After seconds';

/** Any signed-in caller reads the catalogue; only an admin sets products and stock. */
@ApiTags('products')
@ApiBearerAuth()
@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Put(':sku')
  @Roles('admin')
  @skuParam
  @ApiBody({ schema: openApiSchema(putProductSchema, 'input') })
  @ApiOkResponse({
    description: 'The product with its available and reserved stock',
    schema: openApiSchema(productViewSchema),
  })
  @ApiErrorResponses({
    400: 'The body names each invalid field (or the SKU)',
    ...AUTH_ERROR_RESPONSES,
    413: 'The body is larger than 64 KB',
    415: 'The body is not JSON',
    503: unavailable,
  })
  put(
    @Param('sku', sku) productSku: string,
    @Body(new ZodValidationPipe(putProductSchema, 'product')) body: PutProductDto,
  ): Promise<ProductView> {
    return this.products.put(productSku, body);
  }

  @Get()
  @ApiQueryFrom(listProductsQuerySchema)
  @ApiOkResponse({
    description: 'Products by SKU; pass nextAfter as `after` for the next page',
    schema: openApiSchema(productPageSchema),
  })
  @ApiErrorResponses({
    400: 'Names each invalid query parameter',
    401: AUTH_ERROR_RESPONSES[401],
    503: unavailable,
  })
  list(
    @Query(new ZodValidationPipe(listProductsQuerySchema, 'query')) query: ListProductsQuery,
  ): Promise<ProductPage> {
    return this.products.list(query);
  }

  @Get(':sku')
  @skuParam
  @ApiOkResponse({ description: 'The product', schema: openApiSchema(productViewSchema) })
  @ApiErrorResponses({
    400: 'The SKU is not a valid SKU',
    401: AUTH_ERROR_RESPONSES[401],
    404: 'No product with this SKU',
    503: unavailable,
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
