import { createServer } from 'node:http';
import { MIMEType } from 'node:util';
import { HttpStatus, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { Logger } from '@shop/logging';
import { NestLoggerAdapter } from '../logger.adapter';
import { HttpExceptionFilter } from './http-exception.filter';
import { invalidInput } from './zod-validation.pipe';

/** Largest JSON body accepted; an order of 50 lines is a few kilobytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Node closes an idle keep-alive connection after 5 s; a client or load balancer that reuses it
 * at that moment gets its request reset. Pools and balancers keep idle connections for up to
 * 60 s, so the server waits longer than they do.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface HttpLimits {
  /** A request whose headers and body have not all arrived by then is answered 408 and closed. */
  requestTimeoutMs: number;
}

/** Middleware that must see every request first, including those refused before any route. */
export type FirstMiddleware = (
  app: NestExpressApplication,
) => (request: Request, response: Response, next: NextFunction) => void;

/**
 * Nest's Express adapter, with Node's own limits on a request that is slow to arrive: Nest
 * creates its server without options, and the check interval can only be set at creation.
 */
class LimitedExpressAdapter extends ExpressAdapter {
  constructor(private readonly limits: HttpLimits) {
    super();
  }

  override initHttpServer(): void {
    const { requestTimeoutMs } = this.limits;
    this.httpServer = createServer(
      {
        requestTimeout: requestTimeoutMs,
        headersTimeout: requestTimeoutMs,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
      },
      this.getInstance(),
    );
  }
}

/**
 * The HTTP side every process of the system shares, before any route: security headers (helmet,
 * which also drops X-Powered-By), JSON bodies only as plain UTF-8 of at most 64 KB, a time limit
 * for requests that never finish arriving, and errors as JSON that name the problem.
 */
export async function createHttpApplication(
  module: DynamicModule,
  logger: Logger,
  limits: HttpLimits,
  first?: FirstMiddleware,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    module,
    new LimitedExpressAdapter(limits),
    { logger: new NestLoggerAdapter(logger), bodyParser: false },
  );
  if (first) app.use(first(app));
  // The services speak plain HTTP behind whatever terminates TLS: upgrading the pages' requests
  // to https would break Swagger UI and the console wherever they are reached over http.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  app.use(utf8BodiesOnly);
  // inflate: false answers a compressed body 415; nothing here needs one, and inflating is a
  // way to make a small request expensive.
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES, inflate: false });
  app.useGlobalFilters(new HttpExceptionFilter(logger));
  return app;
}

/**
 * body-parser takes any `utf-*` charset (UTF-16 and UTF-32 too); JSON exchanged between systems
 * must be UTF-8 (RFC 8259), so anything else is refused before it is decoded.
 */
function utf8BodiesOnly(request: Request, _response: Response, next: NextFunction): void {
  const header = request.headers['content-type'];
  if (header === undefined) return next();
  let charset: string | null;
  try {
    charset = new MIMEType(header).params.get('charset');
  } catch {
    return next(unsupported('is not a media type (expected e.g. application/json)'));
  }
  if (charset === null || ['utf-8', 'utf8'].includes(charset.toLowerCase())) return next();
  next(unsupported(`has charset "${charset}"; JSON is accepted in utf-8 only`));
}

function unsupported(problem: string) {
  return invalidInput([{ field: 'content-type', problem }], {
    status: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  });
}
