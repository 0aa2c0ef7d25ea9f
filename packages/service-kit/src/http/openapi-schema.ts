import { applyDecorators } from '@nestjs/common';
import { ApiQuery, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * The OpenAPI description of a zod schema, so the request validation and the published API
 * description come from one definition and cannot drift apart.
 */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): SchemaObject {
  return z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  }) as SchemaObject;
}

/** The JSON body of every error answer. */
export const errorResponseSchema = z.object({
  statusCode: z.number().int(),
  error: z.string().optional(),
  message: z.string(),
  issues: z.array(z.object({ field: z.string(), problem: z.string() })).optional(),
});

/** Documents each field of the schema that validates a query string as one query parameter. */
export function ApiQueryFrom(schema: z.ZodObject): MethodDecorator {
  const { properties = {}, required = [] } = openApiSchema(schema, 'input');
  return applyDecorators(
    ...Object.entries(properties).map(([name, property]) =>
      ApiQuery({
        name,
        required: required.includes(name),
        schema: property,
        ...('description' in property ? { description: property.description } : {}),
      }),
    ),
  );
}

/** Documents error answers by status, each with the one error body. */
export function ApiErrorResponses(descriptions: Record<number, string>): MethodDecorator {
  const schema = openApiSchema(errorResponseSchema);
  return applyDecorators(
    ...Object.entries(descriptions).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema }),
    ),
  );
}
