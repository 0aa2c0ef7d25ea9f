import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
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
import { InvalidCursorError, OrderNotCancellableError, OrderNotFoundError } from './orders.errors';
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
  async list(
    @Query(new ZodValidationPipe(listOrdersQuerySchema, 'query')) query: ListOrdersQuery,
  ): Promise<OrderPage> {
    try {
      return await this.orders.list(query);
    } catch (error) {
      throw toHttpError(error);
    }
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The order', schema: orderSchema })
  @ApiNotFoundResponse({ description: 'No order with this id', schema: errorSchema })
  async get(@Param('id', uuid) id: string): Promise<OrderView> {
    try {
      return await this.orders.get(id);
    } catch (error) {
      throw toHttpError(error);
    }
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
  async cancel(@Param('id', uuid) id: string): Promise<OrderView> {
    try {
      return await this.orders.cancel(id);
    } catch (error) {
      throw toHttpError(error);
    }
  }
}

function toHttpError(error: unknown): unknown {
  if (error instanceof OrderNotFoundError) return new NotFoundException(error.message);
  if (error instanceof OrderNotCancellableError) return new ConflictException(error.message);
  if (error instanceof InvalidCursorError) return new BadRequestException(error.message);
  return error;
}
