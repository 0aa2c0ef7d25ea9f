import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '@shop/logging';

interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

/**
 * Every HTTP error is JSON `{ statusCode, error, message, ... }`. Body-parser failures
 * (malformed JSON, oversized body) are the client's fault: 4xx, never 500.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // A Kafka handler's error goes back to the transport untouched: it retries and logs it.
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const status = exception.getStatus();
      response
        .status(status)
        .json(typeof body === 'string' ? { statusCode: status, message: body } : body);
      return;
    }
    if (isBodyParserError(exception)) {
      const status = exception.status;
      const message =
        exception.type === 'entity.parse.failed'
          ? `malformed JSON body: ${exception.message}`
          : exception.message;
      response
        .status(status)
        .json({ statusCode: status, error: HttpStatus[status] ?? 'Bad Request', message });
      return;
    }
    this.logger.error({ err: exception }, 'unhandled error in HTTP request');
    response
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
  }
}

function isBodyParserError(error: unknown): error is BodyParserError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as Partial<BodyParserError>;
  return (
    typeof candidate.type === 'string' &&
    typeof candidate.status === 'number' &&
    candidate.status >= 400 &&
    candidate.status < 500
  );
}
