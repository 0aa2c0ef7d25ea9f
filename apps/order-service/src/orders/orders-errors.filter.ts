import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ConflictException,
  NotFoundException,
  type ExceptionFilter,
  type HttpException,
} from '@nestjs/common';
import type { Response } from 'express';
import { InvalidCursorError, OrderNotCancellableError, OrderNotFoundError } from './orders.errors';

type OrderError = OrderNotFoundError | OrderNotCancellableError | InvalidCursorError;

/** Maps the order domain's errors to HTTP in one place, so the controller only calls the domain. */
@Catch(OrderNotFoundError, OrderNotCancellableError, InvalidCursorError)
export class OrdersErrorsFilter implements ExceptionFilter<OrderError> {
  catch(error: OrderError, host: ArgumentsHost): void {
    const http = toHttpException(error);
    host.switchToHttp().getResponse<Response>().status(http.getStatus()).json(http.getResponse());
  }
}

function toHttpException(error: OrderError): HttpException {
  if (error instanceof OrderNotFoundError) return new NotFoundException(error.message);
  if (error instanceof OrderNotCancellableError) return new ConflictException(error.message);
  return new BadRequestException(error.message);
}
