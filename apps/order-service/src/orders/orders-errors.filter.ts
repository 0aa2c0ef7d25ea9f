import {
  ArgumentsHost,
  Catch,
  ConflictException,
  HttpStatus,
  NotFoundException,
  type ExceptionFilter,
  type HttpException,
} from '@nestjs/common';
import type { Response } from 'express';
import { invalidInput } from '@shop/service-kit';
import { IDEMPOTENCY_KEY_HEADER } from './dto/idempotency-key.header';
import {
  IdempotencyKeyReusedError,
  InvalidCursorError,
  OrderNotCancellableError,
  OrderNotFoundError,
} from './orders.errors';

type OrderError =
  OrderNotFoundError | OrderNotCancellableError | InvalidCursorError | IdempotencyKeyReusedError;

/** Maps the order domain's errors to HTTP in one place, so the controller only calls the domain. */
@Catch(OrderNotFoundError, OrderNotCancellableError, InvalidCursorError, IdempotencyKeyReusedError)
export class OrdersErrorsFilter implements ExceptionFilter<OrderError> {
  catch(error: OrderError, host: ArgumentsHost): void {
    const http = toHttpException(error);
    host.switchToHttp().getResponse<Response>().status(http.getStatus()).json(http.getResponse());
  }
}

function toHttpException(error: OrderError): HttpException {
  if (error instanceof OrderNotFoundError) return new NotFoundException(error.message);
  if (error instanceof OrderNotCancellableError) return new ConflictException(error.message);
  if (error instanceof IdempotencyKeyReusedError) {
    return invalidInput([{ field: IDEMPOTENCY_KEY_HEADER, problem: error.message }], {
      status: HttpStatus.UNPROCESSABLE_ENTITY,
    });
  }
  return invalidInput([{ field: 'cursor', problem: error.message }], { what: 'query' });
}
