import {
  applyDecorators,
  createParamDecorator,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Logger } from '@shop/logging';
import { invalidInput } from '../http/zod-validation.pipe';
import { LOGGER } from '../tokens';
import type { Caller, Role } from './caller';
import {
  IdentityProviderUnavailableError,
  InvalidTokenError,
  TokenVerifier,
} from './token-verifier';

const PUBLIC = Symbol('public route');
const ROLES_ALLOWED = Symbol('roles allowed');
const CALLER = Symbol('caller');

type AuthenticatedRequest = Request & { [CALLER]?: Caller };

/** Anyone may call this route (GET /health): no token is asked for. */
export const Public = () => SetMetadata(PUBLIC, true);

/**
 * Only callers holding one of these roles (403 otherwise); without it, any signed-in caller.
 * The OpenAPI document lists them as `x-roles`, for readers and for the bad-request corpus.
 */
export const Roles = (...roles: Role[]) =>
  applyDecorators(SetMetadata(ROLES_ALLOWED, roles), ApiExtension('x-roles', roles));

/** The verified caller of this request. */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>()[CALLER];
  // The guard runs before any handler: a missing caller means a @Public route asked for one.
  if (!caller) throw new Error('@CurrentCaller() on a route without authentication');
  return caller;
});

/** Where a Bearer challenge names the protected area (RFC 6750). */
const REALM = 'order-flow';

/**
 * Every HTTP route needs a valid access token from the configured issuer unless marked
 * @Public(): 401 with a `WWW-Authenticate: Bearer` challenge without one, 403 when the caller
 * lacks the route's @Roles. Kafka handlers are not HTTP and pass untouched.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const response = http.getResponse<Response>();

    const token = bearerToken(request.headers.authorization);
    if (token === undefined) {
      response.setHeader('WWW-Authenticate', `Bearer realm="${REALM}"`);
      throw unauthorized('send an access token: Authorization: Bearer <token>');
    }
    let caller: Caller;
    try {
      caller = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        response.setHeader(
          'WWW-Authenticate',
          `Bearer realm="${REALM}", error="invalid_token", error_description="${error.message}"`,
        );
        throw unauthorized(error.message);
      }
      if (error instanceof IdentityProviderUnavailableError) {
        this.logger.warn({ err: error }, 'identity provider unreachable; answered 503');
        throw new HttpException(
          {
            statusCode: HttpStatus.SERVICE_UNAVAILABLE,
            error: 'Service Unavailable',
            message: 'the identity provider cannot be reached to check the token; retry shortly',
          },
          HttpStatus.SERVICE_UNAVAILABLE,
        );
      }
      throw error;
    }
    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_ALLOWED, targets);
    if (allowed && !allowed.some((role) => caller.roles.has(role))) {
      const granted = [...caller.roles].join(', ') || 'no role';
      throw refused(
        HttpStatus.FORBIDDEN,
        `this needs the role ${allowed.join(' or ')}; the token grants ${granted}`,
      );
    }
    request[CALLER] = caller;
    return true;
  }
}

/** The token of an `Authorization: Bearer <token>` header; undefined for anything else. */
function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header?.trim() ?? '');
  return match?.[1];
}

/** Refusals name the Authorization header as the field, like any other refused input. */
function refused(status: HttpStatus, problem: string): HttpException {
  return invalidInput([{ field: 'authorization', problem }], { status });
}

function unauthorized(problem: string): HttpException {
  return refused(HttpStatus.UNAUTHORIZED, problem);
}

/** The answers of a protected route that come from its token, for @ApiErrorResponses. */
export const AUTH_ERROR_RESPONSES = {
  401: 'No access token, or one that is forged, expired or meant for another issuer or audience',
  403: 'The token lacks the role this needs',
} as const;
