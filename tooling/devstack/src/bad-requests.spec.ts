import {
  badRequestCorpus,
  exampleRequests,
  rejectionProblem,
  type BadRequest,
  type JsonSchema,
  type OpenApiDocument,
  type ServiceKey,
} from './bad-requests';

const NO_PATHS: OpenApiDocument = { openapi: '3.0.0', paths: {} };
const BODY_LIMIT_BYTES = 64 * 1024;

describe('the bad request corpus, from the services’ own OpenAPI documents', () => {
  let corpus: BadRequest[];

  beforeAll(() => {
    corpus = badRequestCorpus(documents);
  });

  it('holds at least 200 requests over the three services, each named once', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((request) => request.name)).size).toBe(corpus.length);
    for (const service of ['order', 'inventory', 'notification'] as const) {
      expect(corpus.some((request) => request.service === service)).toBe(true);
    }
  });

  it('derives every request from an example that its operation’s schema accepts', () => {
    for (const request of exampleRequests(documents)) {
      if (request.body === undefined) continue;
      const schema = bodySchema(request);
      expect([request.name, violations(schema, JSON.parse(String(request.body)))]).toEqual([
        request.name,
        [],
      ]);
    }
  });

  it('breaks each JSON body in a way its own schema refuses, but for rules no schema states', () => {
    const schemaBroken = corpus.filter(
      (request) =>
        / body[.:]/.test(request.name) &&
        request.headers['content-type'] === 'application/json' &&
        // A body sent with a content-encoding is refused for the encoding, not its contents.
        request.headers['content-encoding'] === undefined &&
        parsesAsJson(request.body) &&
        String(request.body).length <= BODY_LIMIT_BYTES,
    );
    expect(schemaBroken.length).toBeGreaterThan(80);
    const unbroken = schemaBroken
      .filter(
        (request) => violations(bodySchema(request), JSON.parse(String(request.body))).length === 0,
      )
      .map((request) => request.name);
    expect(unbroken).toEqual([
      // RFC 5321's lengths of the parts of an address, checked beyond format: email.
      'POST /orders body.customerEmail: email with 65 characters before @',
      'POST /orders body.customerEmail: email with a 64-character domain label',
      'POST /orders body.items: the same SKU on two lines',
    ]);
  });

  it('drops each required field, at every level of the body', () => {
    expect(names('missing')).toEqual(
      expect.arrayContaining([
        'POST /orders body.customerEmail: missing',
        'POST /orders body.items: missing',
        'POST /orders body.items.0.sku: missing',
        'POST /orders body.items.0.quantity: missing',
        'PUT /products/{sku} body.stock: missing',
        'GET /notifications query orderId: missing',
      ]),
    );
  });

  it('crosses every bound: quantities and stock below, above, fractional, huge; too many lines', () => {
    const quantities = bodiesOf('POST /orders body.items.0.quantity').map(
      (body) => (body as { items: Array<{ quantity: unknown }> }).items[0]?.quantity,
    );
    expect(quantities).toEqual(expect.arrayContaining([-1, 0, 10_001, 1.5, 1e308, Infinity]));
    const stocks = bodiesOf('PUT /products/{sku} body.stock').map(
      (body) => (body as { stock: unknown }).stock,
    );
    expect(stocks).toEqual(expect.arrayContaining([-1, 1_000_000_001, 1.5, -Infinity]));
    const [tooMany] = bodiesOf('POST /orders body.items: 51 items') as Array<{ items: unknown[] }>;
    expect(tooMany?.items).toHaveLength(51);
  });

  it('sends ids that are not UUIDs in paths and queries, and SKUs that break the SKU rule', () => {
    expect(pathsOf('GET /orders/{id} path id')).toContain('/orders/not-a-uuid');
    expect(pathsOf('POST /orders/{id}/cancel path id')).toContain('/orders/not-a-uuid/cancel');
    expect(pathsOf('GET /notifications query orderId')).toContain(
      '/notifications?orderId=not-a-uuid',
    );
    expect(pathsOf('PUT /products/{sku} path sku')).toEqual(
      expect.arrayContaining(['/products/A%201', '/products/A%001', '/products/-A1']),
    );
  });

  it('adds the hand-written cases: malformed JSON, wrong content-type, over 64 KB, deep nesting', () => {
    const orderBodies = corpus.filter((request) => request.name.startsWith('POST /orders body:'));
    expect(
      orderBodies.filter((request) => !parsesAsJson(request.body)).length,
    ).toBeGreaterThanOrEqual(6);
    expect(orderBodies.map((request) => request.headers['content-type'])).toEqual(
      expect.arrayContaining(['text/plain', 'application/x-www-form-urlencoded', undefined]),
    );
    expect(orderBodies.some((request) => String(request.body).length > BODY_LIMIT_BYTES)).toBe(
      true,
    );
    expect(orderBodies.some((request) => String(request.body).startsWith('['.repeat(10_000)))).toBe(
      true,
    );
    expect(orderBodies.every((request) => String(request.body).length < 2 * BODY_LIMIT_BYTES)).toBe(
      true,
    );
  });

  it('sends bad Idempotency-Keys that an HTTP client can still put in a header', () => {
    const keys = corpus
      .filter((request) => request.name.startsWith('POST /orders header Idempotency-Key'))
      .map((request) => request.headers['Idempotency-Key'] ?? '');
    expect(keys).toEqual(expect.arrayContaining(['', 'A'.repeat(253) + 'A-1', 'Äpfel']));
    for (const key of keys) expect(key).toMatch(/^[\t\x20-\x7E\x80-\xFF]*$/);
  });

  it('never sends a body with GET, and every path stays on its service', () => {
    for (const request of corpus) {
      if (request.method === 'GET') expect(request.body).toBeUndefined();
      expect(request.path).toMatch(/^\/(orders|products|notifications)(\/|\?|$)/);
    }
  });

  it('with credentials, sends each request with a token of a role its route admits, and asks each route without, with malformed, refused and under-privileged tokens', () => {
    const credentials = {
      tokens: { customer: 'customer-token', admin: 'admin-token', operator: 'operator-token' },
      refused: { 'an expired token': 'Bearer expired-token' },
    };
    const adminOnly: OpenApiDocument = {
      openapi: '3.0.0',
      paths: { '/stock': { put: { 'x-roles': ['admin'] } }, '/catalogue': { get: {} } },
    };
    const corpus = badRequestCorpus(
      { order: adminOnly, inventory: NO_PATHS, notification: NO_PATHS },
      credentials,
    );
    const put = corpus.filter((request) => request.method === 'PUT');
    const names = put.map((request) => request.name.replace('PUT /stock Authorization: ', ''));
    expect(names).toEqual(
      expect.arrayContaining([
        'missing',
        'Basic credentials instead of a bearer token',
        'an expired token',
        'a valid customer token (admits admin)',
      ]),
    );
    for (const request of put) expect(request.field).toBe('authorization');
    expect(put.find((request) => request.name.endsWith('missing'))?.headers).not.toHaveProperty(
      'authorization',
    );
    const [example, catalogue] = exampleRequests(
      { order: adminOnly, inventory: NO_PATHS, notification: NO_PATHS },
      credentials,
    );
    expect(example?.headers.authorization).toBe('Bearer admin-token');
    // Any signed-in caller may read: no under-privileged case, a customer's token in the example.
    expect(catalogue?.headers.authorization).toBe('Bearer customer-token');
    expect(
      corpus.some((request) => request.name.startsWith('GET /catalogue Authorization: a valid')),
    ).toBe(false);
  });

  it('adds nothing for a service whose document has no paths', () => {
    const orderOnly = badRequestCorpus({
      order: documents.order,
      inventory: NO_PATHS,
      notification: NO_PATHS,
    });
    expect(orderOnly.length).toBeGreaterThan(0);
    expect(orderOnly.every((request) => request.service === 'order')).toBe(true);
  });

  it('follows $ref to a component schema', () => {
    const withRef: OpenApiDocument = {
      openapi: '3.0.0',
      paths: {
        '/widgets': {
          post: {
            requestBody: {
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Widget' } } },
            },
          },
        },
      },
      components: {
        schemas: {
          Widget: {
            type: 'object',
            properties: { size: { type: 'integer', minimum: 1 } },
            required: ['size'],
            additionalProperties: false,
          },
        },
      },
    };
    const widgets = badRequestCorpus({
      order: withRef,
      inventory: NO_PATHS,
      notification: NO_PATHS,
    });
    expect(widgets.map((request) => request.name)).toEqual(
      expect.arrayContaining([
        'POST /widgets body.size: missing',
        'POST /widgets body.size: below the minimum 1',
      ]),
    );
  });

  it('accepts only a 4xx JSON answer whose issues name the request’s field', () => {
    const request = corpus.find(
      (bad) => bad.name === 'POST /orders body.items.0.quantity: fractional',
    );
    if (!request) throw new Error('no fractional quantity case');
    const answer = (
      status: number,
      body: unknown,
      contentType = 'application/json; charset=utf-8',
    ) => ({
      status,
      contentType,
      body: JSON.stringify(body),
    });
    const named = { issues: [{ field: 'items.0.quantity', problem: 'expected int' }] };
    expect(rejectionProblem(request, answer(400, named))).toBeUndefined();
    expect(rejectionProblem(request, answer(500, named))).toMatch(/500/);
    expect(rejectionProblem(request, answer(400, named, 'text/html'))).toMatch(/content-type/);
    expect(rejectionProblem(request, answer(400, { message: 'bad' }))).toMatch(/no issues/);
    expect(
      rejectionProblem(
        request,
        answer(400, { issues: [{ field: 'customerEmail', problem: 'x' }] }),
      ),
    ).toMatch(/items\.0\.quantity/);
  });

  function names(suffix: string): string[] {
    return corpus.map((request) => request.name).filter((name) => name.endsWith(`: ${suffix}`));
  }

  function bodiesOf(prefix: string): unknown[] {
    return corpus
      .filter((request) => request.name.startsWith(prefix))
      .map((request) => JSON.parse(String(request.body)));
  }

  function pathsOf(prefix: string): string[] {
    return corpus
      .filter((request) => request.name.startsWith(prefix))
      .map((request) => request.path);
  }
});

function parsesAsJson(body: string | Buffer | undefined): boolean {
  try {
    JSON.parse(String(body));
    return body !== undefined;
  } catch {
    return false;
  }
}

function bodySchema(request: BadRequest): JsonSchema {
  const template = (request.name.split(' ')[1] ?? '').replace(/:$/, '');
  const method = request.method.toLowerCase() as 'post' | 'put';
  const schema =
    documents[request.service].paths[template]?.[method]?.requestBody?.content?.['application/json']
      ?.schema;
  if (!schema) throw new Error(`no body schema for ${request.name}`);
  return schema;
}

/** A small JSON-schema check, enough for what the services' documents use. */
function violations(schema: JsonSchema, value: unknown, at = 'body'): string[] {
  if (value === null) return schema.nullable ? [] : [`${at}: null`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: not in enum`];
  switch (schema.type) {
    case 'string': {
      if (typeof value !== 'string') return [`${at}: not a string`];
      const out: string[] = [];
      if (value.length < (schema.minLength ?? 0)) out.push(`${at}: too short`);
      if (value.length > (schema.maxLength ?? Infinity)) out.push(`${at}: too long`);
      if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value))
        out.push(`${at}: pattern`);
      return out;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number') return [`${at}: not a number`];
      const out: string[] = [];
      if (schema.type === 'integer' && !Number.isInteger(value)) out.push(`${at}: not an integer`);
      const exclusiveMin = schema.exclusiveMinimum === true;
      if (
        schema.minimum !== undefined &&
        (exclusiveMin ? value <= schema.minimum : value < schema.minimum)
      ) {
        out.push(`${at}: below minimum`);
      }
      if (schema.maximum !== undefined && value > schema.maximum) out.push(`${at}: above maximum`);
      return out;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: not an array`];
      const out: string[] = [];
      if (value.length < (schema.minItems ?? 0)) out.push(`${at}: too few items`);
      if (value.length > (schema.maxItems ?? Infinity)) out.push(`${at}: too many items`);
      value.forEach((item, index) =>
        out.push(...violations(schema.items ?? {}, item, `${at}.${index}`)),
      );
      return out;
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
      const record = value as Record<string, unknown>;
      const out: string[] = [];
      for (const key of schema.required ?? []) {
        if (!Object.hasOwn(record, key)) out.push(`${at}.${key}: missing`);
      }
      for (const key of Object.keys(record)) {
        const property = Object.hasOwn(schema.properties ?? {}, key)
          ? schema.properties?.[key]
          : undefined;
        if (property) out.push(...violations(property, record[key], `${at}.${key}`));
        else if (schema.additionalProperties === false) out.push(`${at}.${key}: unknown`);
      }
      return out;
    }
    default:
      return [];
  }
}

/**
 * The request parts (parameters and bodies) of the three documents exactly as the services serve
 * them at GET /docs/openapi.json. Each service's integration tests run the corpus against its
 * live document; this copy keeps the unit test free of infrastructure.
 */
const documents: Record<ServiceKey, OpenApiDocument> = {
  order: {
    openapi: '3.0.0',
    paths: {
      '/orders': {
        post: {
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]*$' },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    customerEmail: {
                      type: 'string',
                      maxLength: 254,
                      format: 'email',
                      pattern:
                        "^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$",
                    },
                    items: {
                      minItems: 1,
                      maxItems: 50,
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          sku: {
                            type: 'string',
                            minLength: 1,
                            maxLength: 64,
                            pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
                          },
                          quantity: {
                            type: 'integer',
                            minimum: 0,
                            exclusiveMinimum: true,
                            maximum: 10000,
                          },
                        },
                        required: ['sku', 'quantity'],
                        additionalProperties: false,
                      },
                    },
                  },
                  required: ['customerEmail', 'items'],
                  additionalProperties: false,
                },
              },
            },
          },
        },
        get: {
          parameters: [
            {
              name: 'status',
              required: false,
              in: 'query',
              schema: { type: 'string', enum: ['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED'] },
            },
            {
              name: 'limit',
              required: false,
              in: 'query',
              schema: { default: 20, type: 'integer', minimum: 1, maximum: 100 },
            },
            {
              name: 'cursor',
              required: false,
              in: 'query',
              schema: {
                type: 'string',
                maxLength: 200,
                description: 'Opaque: the nextCursor of the previous page',
              },
            },
          ],
        },
      },
      '/orders/{id}': {
        get: {
          parameters: [
            {
              name: 'id',
              required: true,
              in: 'path',
              schema: {
                type: 'string',
                format: 'uuid',
                pattern:
                  '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$',
              },
            },
          ],
        },
      },
      '/orders/{id}/cancel': {
        post: {
          parameters: [
            {
              name: 'id',
              required: true,
              in: 'path',
              schema: {
                type: 'string',
                format: 'uuid',
                pattern:
                  '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$',
              },
            },
          ],
        },
      },
    },
  },
  inventory: {
    openapi: '3.0.0',
    paths: {
      '/products/{sku}': {
        put: {
          parameters: [
            {
              name: 'sku',
              required: true,
              in: 'path',
              schema: {
                type: 'string',
                minLength: 1,
                maxLength: 64,
                pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
              },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^\\P{Cc}*$' },
                    stock: { type: 'integer', minimum: 0, maximum: 1000000000 },
                  },
                  required: ['name', 'stock'],
                  additionalProperties: false,
                },
              },
            },
          },
        },
        get: {
          parameters: [
            {
              name: 'sku',
              required: true,
              in: 'path',
              schema: {
                type: 'string',
                minLength: 1,
                maxLength: 64,
                pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
              },
            },
          ],
        },
      },
      '/products': {
        get: {
          parameters: [
            {
              name: 'limit',
              required: false,
              in: 'query',
              schema: { default: 100, type: 'integer', minimum: 1, maximum: 500 },
            },
            {
              name: 'after',
              required: false,
              in: 'query',
              schema: {
                type: 'string',
                minLength: 1,
                maxLength: 64,
                pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
                description: 'The last SKU of the previous page (its nextAfter)',
              },
            },
          ],
        },
      },
    },
  },
  notification: {
    openapi: '3.0.0',
    paths: {
      '/notifications': {
        get: {
          parameters: [
            {
              name: 'orderId',
              required: true,
              in: 'query',
              schema: {
                type: 'string',
                format: 'uuid',
                pattern:
                  '^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$',
              },
            },
          ],
        },
      },
    },
  },
};
