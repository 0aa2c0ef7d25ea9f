import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/**
 * One request header's value (undefined when absent). Unlike Nest's `@Headers()`, it takes pipes:
 * `@RequestHeader('Idempotency-Key', new ZodValidationPipe(schema, 'header'))`, and a refusal
 * names the header as the field.
 */
export const RequestHeader = createParamDecorator(
  (name: string, context: ExecutionContext): string | undefined => {
    const value = context.switchToHttp().getRequest<Request>().headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  },
);
