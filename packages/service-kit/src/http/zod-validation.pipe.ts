import { STATUS_CODES } from 'node:http';
import {
  HttpException,
  HttpStatus,
  type ArgumentMetadata,
  type PipeTransform,
} from '@nestjs/common';
import type { z } from 'zod';

export interface ValidationIssue {
  field: string;
  problem: string;
}

/**
 * The one answer to input a service refuses, whatever refused it:
 * `{ statusCode, error, message, issues: [{ field, problem }] }`.
 */
export function invalidInput(
  issues: ValidationIssue[],
  options: { status?: number; what?: string } = {},
): HttpException {
  const status = options.status ?? HttpStatus.BAD_REQUEST;
  const summary = issues.map((issue) => `${issue.field}: ${issue.problem}`).join('; ');
  return new HttpException(
    {
      statusCode: status,
      error: STATUS_CODES[status] ?? 'Bad Request',
      message: options.what ? `invalid ${options.what}: ${summary}` : summary,
      issues,
    },
    status,
  );
}

/**
 * Validates a body, query, path parameter or header against a zod schema; a 400 names every
 * field and problem.
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly what = 'request',
  ) {}

  transform(value: unknown, metadata?: ArgumentMetadata): z.output<S> {
    // Only JSON is parsed: a body of any other type (or none) arrives here as undefined.
    if (metadata?.type === 'body' && value === undefined) {
      throw invalidInput(
        [{ field: 'content-type', problem: 'the body must be JSON, sent as application/json' }],
        { status: HttpStatus.UNSUPPORTED_MEDIA_TYPE, what: this.what },
      );
    }
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    // A named value (`@Param('id')`) is reported under its name, a whole body or query as such.
    const name = typeof metadata?.data === 'string' ? [metadata.data] : [];
    const whole =
      metadata?.type === 'body' || metadata?.type === 'query' ? `(${metadata.type})` : '(root)';
    throw invalidInput(
      result.error.issues.flatMap((issue) => toIssues(issue, name, whole)),
      { what: this.what },
    );
  }
}

function toIssues(issue: z.core.$ZodIssue, name: string[], whole: string): ValidationIssue[] {
  const path = [...name, ...issue.path.map(String)];
  // zod reports all unknown keys of an object as one issue on the object; name each one instead.
  // A schema may explain why a key is refused (its own error message); zod's default says nothing more.
  if (issue.code === 'unrecognized_keys') {
    const problem = issue.message.startsWith('Unrecognized key') ? 'unknown field' : issue.message;
    return issue.keys.map((key) => ({ field: [...path, key].join('.'), problem }));
  }
  return [{ field: path.length > 0 ? path.join('.') : whole, problem: issue.message }];
}
