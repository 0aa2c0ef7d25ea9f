import { STATUS_CODES } from 'node:http';
import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from '@shop/logging';
import { isTransientDatabaseError } from '../transient-errors';
import { invalidInput, type ValidationIssue } from './zod-validation.pipe';

/** How long a client should wait after a 503: a database restart takes a few seconds. */
const RETRY_AFTER_SECONDS = 5;

interface BodyParserError {
  type: string;
  status: number;
  message: string;
  limit?: number;
  charset?: string;
}

interface ErrorBody {
  statusCode: number;
  error?: string;
  message: string;
  issues?: ValidationIssue[];
}

/**
 * Every HTTP error is JSON `{ statusCode, error, message, issues? }`; input errors always carry
 * `issues` naming the field and problem. What Express rejects before any route (malformed or
 * oversized JSON, a path that is not valid percent-encoding) is the client's fault: 4xx, never
 * 500. A database that is briefly unreachable, once the callers' retries are spent, is a 503
 * with Retry-After.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // A Kafka handler's error goes back to the transport untouched: it retries and logs it.
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const body = this.toBody(exception, http.getRequest<Request>());
    if (body.statusCode === HttpStatus.SERVICE_UNAVAILABLE) {
      response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    }
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown, request: Request): ErrorBody {
    if (exception instanceof HttpException) return fromHttpException(exception, request);
    if (isBodyParserError(exception)) return fromBodyParserError(exception);
    if (isTransientDatabaseError(exception)) {
      this.logger.warn({ err: exception }, 'database unavailable; answered 503');
      return {
        statusCode: HttpStatus.SERVICE_UNAVAILABLE,
        error: 'Service Unavailable',
        message: `the database is unavailable for a moment; retry in ${RETRY_AFTER_SECONDS} s`,
      };
    }
    this.logger.error({ err: exception }, 'unhandled error in HTTP request');
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: 'Internal Server Error',
      message: 'internal error',
    };
  }
}

function fromHttpException(exception: HttpException, request: Request): ErrorBody {
  const status = exception.getStatus();
  const answer = exception.getResponse();
  const body: ErrorBody =
    typeof answer === 'string'
      ? { statusCode: status, error: STATUS_CODES[status], message: answer }
      : (answer as ErrorBody);
  // Nest turns the SyntaxError of a malformed JSON body and the URIError of an undecodable path
  // into a bare 400; both happen before Express matches a route.
  if (
    status === HttpStatus.BAD_REQUEST &&
    !body.issues &&
    typeof body.message === 'string' &&
    request.route === undefined
  ) {
    const issue = body.message.startsWith('Failed to decode param')
      ? { field: '(path)', problem: `not valid percent-encoding: ${body.message}` }
      : { field: '(body)', problem: `malformed JSON: ${body.message}` };
    return errorBody(invalidInput([issue], { status }));
  }
  return body;
}

function fromBodyParserError(error: BodyParserError): ErrorBody {
  return errorBody(invalidInput([bodyParserIssue(error)], { status: error.status }));
}

function bodyParserIssue(error: BodyParserError): ValidationIssue {
  switch (error.type) {
    case 'entity.too.large':
      return { field: '(body)', problem: `larger than the limit of ${error.limit} bytes` };
    case 'entity.parse.failed':
      return { field: '(body)', problem: `malformed JSON: ${error.message}` };
    case 'charset.unsupported':
      return { field: 'content-type', problem: `unsupported charset ${error.charset}; use utf-8` };
    case 'encoding.unsupported':
      return { field: 'content-encoding', problem: error.message };
    default:
      return { field: '(body)', problem: error.message };
  }
}

function errorBody(exception: HttpException): ErrorBody {
  return exception.getResponse() as ErrorBody;
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
