import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  UseFilters,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { errorResponseSchema, openApiSchema, ZodValidationPipe } from '@shop/service-kit';
import { listOrdersQuerySchema, type ListOrdersQuery } from './dto/list-orders.query';
import {
  orderPageSchema,
  orderViewSchema,
  type OrderPage,
  type OrderView,
} from './dto/order.response';
import { placeOrderSchema, type PlaceOrderDto } from './dto/place-order.dto';
import { ORDER_STATUSES } from './order-status';
import { OrdersErrorsFilter } from './orders-errors.filter';
import { OrdersService } from './orders.service';

const uuid = new ParseUUIDPipe({
  version: '4',
  exceptionFactory: () => new BadRequestException('id must be a UUID'),
});
const orderSchema = openApiSchema(orderViewSchema);
const errorSchema = openApiSchema(errorResponseSchema);

/** REST transport: validates, calls one domain method, maps domain errors to HTTP. */
@ApiTags('orders')
@Controller('orders')
@UseFilters(OrdersErrorsFilter)
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiBody({ schema: openApiSchema(placeOrderSchema, 'input') })
  @ApiBadRequestResponse({ description: 'The body names each invalid field', schema: errorSchema })
  @ApiAcceptedResponse({
    description: 'Order accepted as PENDING; stock and email follow asynchronously',
    schema: orderSchema,
  })
  async place(
    @Body(new ZodValidationPipe(placeOrderSchema, 'order')) body: PlaceOrderDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OrderView> {
    const order = await this.orders.place(body);
    response.location(`/orders/${order.id}`);
    return order;
  }

  @Get()
  @ApiQuery({ name: 'status', required: false, enum: ORDER_STATUSES })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiOkResponse({
    description: 'A page of orders, newest first',
    schema: openApiSchema(orderPageSchema),
  })
  list(
    @Query(new ZodValidationPipe(listOrdersQuerySchema, 'query')) query: ListOrdersQuery,
  ): Promise<OrderPage> {
    return this.orders.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The order', schema: orderSchema })
  @ApiNotFoundResponse({ description: 'No order with this id', schema: errorSchema })
  get(@Param('id', uuid) id: string): Promise<OrderView> {
    return this.orders.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({
    description: 'Cancelled; held stock is released asynchronously',
    schema: orderSchema,
  })
  @ApiConflictResponse({
    description: 'The order is already REJECTED or CANCELLED',
    schema: errorSchema,
  })
  @ApiNotFoundResponse({ description: 'No order with this id', schema: errorSchema })
  cancel(@Param('id', uuid) id: string): Promise<OrderView> {
    return this.orders.cancel(id);
  }
}
