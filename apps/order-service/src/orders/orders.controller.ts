import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Res,
  UseFilters,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import {
  ApiErrorResponses,
  ApiQueryFrom,
  AUTH_ERROR_RESPONSES,
  CurrentCaller,
  invalidInput,
  openApiSchema,
  RequestHeader,
  Roles,
  ZodValidationPipe,
  type Caller,
} from '@shop/service-kit';
import {
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
  idempotencyKeySchema,
} from './dto/idempotency-key.header';
import { listOrdersQuerySchema, type ListOrdersQuery } from './dto/list-orders.query';
import {
  orderPageSchema,
  orderViewSchema,
  type OrderPage,
  type OrderView,
} from './dto/order.response';
import { placeOrderSchema, type PlaceOrderDto } from './dto/place-order.dto';
import type { Customer, OrderActor } from './order-actor';
import { OrdersErrorsFilter } from './orders-errors.filter';
import { OrdersService } from './orders.service';

const orderIdSchema = z.uuid();
const orderId = new ZodValidationPipe(orderIdSchema, 'order id');
const orderSchema = openApiSchema(orderViewSchema);
const idParam = ApiParam({ name: 'id', schema: openApiSchema(orderIdSchema, 'input') });
const unavailable = 'The database is unavailable for a moment; retry after Retry-After seconds';

/**
 * REST transport: validates, calls one domain method, maps domain errors to HTTP. A customer
 * places, reads, lists and cancels their own orders; an admin reads, lists and cancels any.
 */
@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseFilters(OrdersErrorsFilter)
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @Roles('customer')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiBody({ schema: openApiSchema(placeOrderSchema, 'input') })
  @ApiHeader({
    name: IDEMPOTENCY_KEY_HEADER,
    required: false,
    description:
      'Makes retries safe: a repeat with the same key and body (within 24 hours) answers with the ' +
      'order the first request created instead of placing another; the same key with a different ' +
      "body is refused with 422. Keys are per customer: another customer's key is another key.",
    schema: openApiSchema(idempotencyKeySchema, 'input'),
  })
  @ApiAcceptedResponse({
    description: 'Order accepted as PENDING; stock and email follow asynchronously',
    schema: orderSchema,
    headers: {
      Location: { description: 'The order: /orders/{id}', schema: { type: 'string' } },
      [IDEMPOTENT_REPLAYED_HEADER]: {
        description: 'Present (true) when this answers a repeat of an earlier Idempotency-Key',
        schema: { type: 'string', enum: ['true'] },
      },
    },
  })
  @ApiErrorResponses({
    400: 'The body names each invalid field (or the Idempotency-Key header)',
    ...AUTH_ERROR_RESPONSES,
    413: 'The body is larger than 64 KB',
    415: 'The body is not JSON',
    422: 'You already used this Idempotency-Key with a different body',
    503: unavailable,
  })
  async place(
    @Body(new ZodValidationPipe(placeOrderSchema, 'order')) body: PlaceOrderDto,
    @RequestHeader(
      IDEMPOTENCY_KEY_HEADER,
      new ZodValidationPipe(idempotencyKeySchema.optional(), 'header'),
    )
    idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: Response,
    @CurrentCaller() caller: Caller,
  ): Promise<OrderView> {
    const { order, replayed } = await this.orders.place(asCustomer(caller), body, idempotencyKey);
    response.location(`/orders/${order.id}`);
    if (replayed) response.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return order;
  }

  @Get()
  @Roles('customer', 'admin')
  @ApiQueryFrom(listOrdersQuerySchema)
  @ApiOkResponse({
    description: 'A page of your orders (an admin: of every order), newest first',
    schema: openApiSchema(orderPageSchema),
  })
  @ApiErrorResponses({
    400: 'Names each invalid query parameter',
    ...AUTH_ERROR_RESPONSES,
    503: unavailable,
  })
  list(
    @Query(new ZodValidationPipe(listOrdersQuerySchema, 'query')) query: ListOrdersQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<OrderPage> {
    return this.orders.list(asActor(caller), query);
  }

  @Get(':id')
  @Roles('customer', 'admin')
  @idParam
  @ApiOkResponse({ description: 'The order', schema: orderSchema })
  @ApiErrorResponses({
    400: 'The id is not a UUID',
    ...AUTH_ERROR_RESPONSES,
    404: 'No order of yours with this id (an admin: no order at all)',
    503: unavailable,
  })
  get(@Param('id', orderId) id: string, @CurrentCaller() caller: Caller): Promise<OrderView> {
    return this.orders.get(asActor(caller), id);
  }

  @Post(':id/cancel')
  @Roles('customer', 'admin')
  @HttpCode(HttpStatus.ACCEPTED)
  @idParam
  @ApiAcceptedResponse({
    description: 'Cancelled; held stock is released asynchronously',
    schema: orderSchema,
  })
  @ApiErrorResponses({
    400: 'The id is not a UUID',
    ...AUTH_ERROR_RESPONSES,
    404: 'No order of yours with this id (an admin: no order at all)',
    409: 'The order is already REJECTED or CANCELLED',
    503: unavailable,
  })
  cancel(@Param('id', orderId) id: string, @CurrentCaller() caller: Caller): Promise<OrderView> {
    return this.orders.cancel(asActor(caller), id);
  }
}

/** An admin acts as staff on every order; anyone else as a customer on their own. */
function asActor(caller: Caller): OrderActor {
  const kind = caller.roles.has('admin') ? 'staff' : 'customer';
  return { kind, subject: caller.subject };
}

/** Orders are mailed to the token's email: a customer token without one cannot place them. */
function asCustomer(caller: Caller): Customer {
  if (!caller.email) {
    throw invalidInput(
      [
        {
          field: 'authorization',
          problem: 'the access token carries no email claim to send the order to',
        },
      ],
      { status: HttpStatus.FORBIDDEN },
    );
  }
  return { subject: caller.subject, email: caller.email };
}
