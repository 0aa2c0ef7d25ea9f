/**
 * A corpus of bad REST requests, derived from each service's own OpenAPI document: every
 * operation's path, query and header parameters and JSON body are broken one way at a time (a
 * field dropped, a wrong type, a bound crossed, a format violated...), on top of a request that
 * is otherwise valid, so each request tests one rejection. Hand-written edge cases follow
 * (malformed JSON, wrong content-type, a body over 64 KB, deep nesting, huge numbers).
 *
 * Every request must be answered 4xx with a JSON body naming the field and the problem (the
 * request's `field`, when it breaks one; see rejectionProblem), and must write nothing.
 */

import { gzipSync } from 'node:zlib';

export type ServiceKey = 'order' | 'inventory' | 'notification';
export type Method = 'GET' | 'POST' | 'PUT';

export interface ApiRequest {
  service: ServiceKey;
  method: Method;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface BadRequest extends ApiRequest {
  name: string;
  /** The field the answer should name among its issues (or a field inside it), when known. */
  field?: string;
}

/** The parts of an OpenAPI 3.0 schema object the corpus reads. */
export interface JsonSchema {
  type?: string;
  format?: string;
  pattern?: string;
  enum?: unknown[];
  nullable?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  default?: unknown;
  description?: string;
  $ref?: string;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface OpenApiOperation {
  /** The roles the route admits (service-kit's @Roles); absent: any signed-in caller. */
  'x-roles'?: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
}

/** What each service serves at GET /docs/openapi.json, as far as the corpus reads it. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Partial<Record<'get' | 'post' | 'put', OpenApiOperation>>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export type CorpusRole = 'customer' | 'admin' | 'operator';
const ROLES: readonly CorpusRole[] = ['customer', 'admin', 'operator'];

/** What the corpus needs to speak to routes that ask for an access token. */
export interface CorpusCredentials {
  /** A valid access token of a caller holding this role (and no other of these). */
  tokens: Record<CorpusRole, string>;
  /**
   * Authorization headers every protected route must refuse with 401, by what is wrong with
   * them (forged, expired, another issuer...): made with real keys, see edge-tokens.ts.
   */
  refused: Record<string, string>;
}

/** Authorization headers that are not a bearer token at all, or not a JWT. */
const MALFORMED_AUTHORIZATION: Record<string, string> = {
  'Basic credentials instead of a bearer token': 'Basic YWRhOmFkYS1sb2NhbC1vbmx5',
  'the Bearer scheme without a token': 'Bearer',
  'two tokens': 'Bearer a.b.c d.e.f',
  'a token that is not a JWT': 'Bearer not-a-jwt',
  'a JWT whose parts are not base64url JSON': 'Bearer eyJub3Q.eyJqc29u.c2ln',
  'a token of 8000 characters': `Bearer ${'a'.repeat(8_000)}`,
};

const SERVICES: readonly ServiceKey[] = ['order', 'inventory', 'notification'];
const METHODS = ['get', 'post', 'put'] as const;
/** The services' body limit (run-service.ts): anything larger is refused with 413. */
const BODY_LIMIT_BYTES = 64 * 1024;
const JSON_TYPE = 'application/json';
const EXAMPLE_UUID = '3f0c2a6e-4b1d-4c8e-9a57-0d2f5e6b7c81';
/** Replaced by raw JSON text after serialising, for values JSON.stringify cannot write. */
const RAW = '\u0000raw:';

interface Operation {
  service: ServiceKey;
  method: Method;
  template: string;
  /** The roles it admits; undefined: any signed-in caller. */
  roles: string[] | undefined;
  /** A valid Authorization header for it, when the corpus has credentials. */
  authorization: string | undefined;
  parameters: Array<OpenApiParameter & { schema: JsonSchema }>;
  body: JsonSchema | undefined;
}

/**
 * Every bad request for the three services' documents; a document without paths adds none.
 * With credentials, each request carries a token the route admits, and each route also gets
 * requests with a missing, malformed, refused or under-privileged token.
 */
export function badRequestCorpus(
  openApi: Record<ServiceKey, OpenApiDocument>,
  credentials?: CorpusCredentials,
): BadRequest[] {
  const corpus = SERVICES.flatMap((service) =>
    operationsOf(service, openApi[service], credentials).flatMap((operation) => [
      ...authorizationCases(operation, credentials),
      ...pathParameterCases(operation),
      ...queryParameterCases(operation),
      ...headerParameterCases(operation),
      ...bodyCases(operation),
    ]),
  );
  const seen = new Set<string>();
  return corpus.filter((request) => !seen.has(request.name) && seen.add(request.name));
}

/** For each operation, the valid request every bad one is derived from. */
export function exampleRequests(
  openApi: Record<ServiceKey, OpenApiDocument>,
  credentials?: CorpusCredentials,
): BadRequest[] {
  return SERVICES.flatMap((service) =>
    operationsOf(service, openApi[service], credentials).map((operation) => ({
      name: `${operation.method} ${operation.template}: valid example`,
      ...build(operation, {}),
    })),
  );
}

function operationsOf(
  service: ServiceKey,
  document: OpenApiDocument,
  credentials: CorpusCredentials | undefined,
): Operation[] {
  const resolve = (schema: JsonSchema | undefined): JsonSchema | undefined =>
    schema && resolveRefs(schema, document);
  return Object.entries(document.paths ?? {}).flatMap(([template, item]) =>
    METHODS.flatMap((method) => {
      const operation = item[method];
      if (!operation) return [];
      const roles = operation['x-roles'];
      const admitted = ROLES.find((role) => roles === undefined || roles.includes(role));
      return [
        {
          service,
          method: method.toUpperCase() as Method,
          template,
          roles,
          authorization:
            credentials && admitted ? `Bearer ${credentials.tokens[admitted]}` : undefined,
          parameters: (operation.parameters ?? []).map((parameter) => ({
            ...parameter,
            schema: resolve(parameter.schema) ?? {},
          })),
          body: resolve(operation.requestBody?.content?.[JSON_TYPE]?.schema),
        },
      ];
    }),
  );
}

function resolveRefs(schema: JsonSchema, document: OpenApiDocument, depth = 0): JsonSchema {
  if (depth > 20) return schema;
  const target = schema.$ref?.startsWith('#/components/schemas/')
    ? document.components?.schemas?.[schema.$ref.slice('#/components/schemas/'.length)]
    : undefined;
  const base = target ? resolveRefs(target, document, depth + 1) : schema;
  return {
    ...base,
    ...(base.properties
      ? {
          properties: Object.fromEntries(
            Object.entries(base.properties).map(([key, value]) => [
              key,
              resolveRefs(value, document, depth + 1),
            ]),
          ),
        }
      : {}),
    ...(base.items ? { items: resolveRefs(base.items, document, depth + 1) } : {}),
  };
}

// ---------------------------------------------------------------- building requests

interface Overrides {
  path?: Record<string, string>;
  /** Query pairs replacing the valid ones; a name listed in `drop` is left out. */
  query?: Array<[string, string]>;
  drop?: string[];
  headers?: Record<string, string>;
  /** Send no Authorization header at all. */
  anonymous?: boolean;
  /** A JSON value (serialised) or raw text / bytes (sent as is). */
  body?: { json: unknown } | { raw: string | Buffer };
  contentType?: string | null;
}

function build(operation: Operation, overrides: Overrides): ApiRequest {
  let path = operation.template;
  for (const parameter of operation.parameters.filter((p) => p.in === 'path')) {
    const value =
      overrides.path?.[parameter.name] ?? encodeURIComponent(String(example(parameter.schema)));
    path = path.replace(`{${parameter.name}}`, value);
  }
  const dropped = new Set([...(overrides.drop ?? []), ...(overrides.query ?? []).map(([k]) => k)]);
  const query: Array<[string, string]> = operation.parameters
    .filter((p) => p.in === 'query' && p.required && !dropped.has(p.name))
    .map((p) => [p.name, String(example(p.schema))]);
  query.push(...(overrides.query ?? []));
  if (query.length > 0) path += `?${new URLSearchParams(query).toString()}`;

  const body = bodyOf(operation, overrides.body);
  // JSON unless a case says otherwise; null sends no content-type at all.
  const contentType =
    'contentType' in overrides ? overrides.contentType : body === undefined ? null : JSON_TYPE;
  const headers: Record<string, string> = {};
  if (operation.authorization && !overrides.anonymous) {
    headers.authorization = operation.authorization;
  }
  Object.assign(headers, overrides.headers);
  if (contentType) headers['content-type'] = contentType;
  return {
    service: operation.service,
    method: operation.method,
    path,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}

function bodyOf(operation: Operation, given: Overrides['body']): string | Buffer | undefined {
  if (given === undefined) return operation.body && serialise(example(operation.body));
  return 'raw' in given ? given.raw : serialise(given.json);
}

function serialise(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000raw:((?:[^"\\]|\\.)*)"/g, (_match, raw: string) =>
    JSON.parse(`"${raw}"`),
  );
}

function raw(text: string): string {
  return `${RAW}${text}`;
}

function bad(
  operation: Operation,
  where: string,
  what: string,
  field: string | undefined,
  overrides: Overrides,
): BadRequest {
  return {
    name: `${operation.method} ${operation.template} ${where}: ${what}`,
    ...(field === undefined ? {} : { field }),
    ...build(operation, overrides),
  };
}

// ---------------------------------------------------------------- valid examples

function example(schema: JsonSchema, index = 0): unknown {
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case 'string':
      return exampleString(schema, index);
    case 'integer':
    case 'number':
      return exampleNumber(schema);
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, (_, i) =>
        example(schema.items ?? {}, i),
      );
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((key) => [key, example(schema.properties?.[key] ?? {}, index)]),
      );
    default:
      return schema.default ?? 'example';
  }
}

function exampleString(schema: JsonSchema, index: number): string {
  if (schema.format === 'email') return index === 0 ? 'ada@example.com' : `ada${index}@example.com`;
  if (schema.format === 'uuid') return EXAMPLE_UUID;
  if (schema.format === 'date-time') return '2025-01-01T00:00:00.000Z';
  const candidates = [`A-${index + 1}`, `a${index + 1}`, `A${index + 1}`, 'example', 'x'];
  const fits = candidates.find((candidate) => fitsString(schema, candidate));
  if (fits) return fits;
  if (typeof schema.default === 'string') return schema.default;
  throw new Error(`no example string fits ${JSON.stringify(schema)}`);
}

/** A schema's pattern, with Unicode semantics (`\p{Cc}`) unless it only parses without them. */
function pattern(source: string): RegExp {
  try {
    return new RegExp(source, 'u');
  } catch {
    return new RegExp(source);
  }
}

function fitsString(schema: JsonSchema, value: string): boolean {
  return (
    value.length >= (schema.minLength ?? 0) &&
    value.length <= (schema.maxLength ?? Infinity) &&
    (schema.pattern === undefined || pattern(schema.pattern).test(value))
  );
}

function exampleNumber(schema: JsonSchema): number {
  const bounds = numberBounds(schema);
  const low = bounds.min === undefined ? 1 : bounds.minExclusive ? bounds.min + 1 : bounds.min;
  const value = Math.max(1, low);
  return bounds.max !== undefined && value > bounds.max ? bounds.max : value;
}

function numberBounds(schema: JsonSchema) {
  // OpenAPI 3.0 writes exclusive bounds as booleans beside minimum/maximum; 3.1 as numbers.
  const minExclusive =
    typeof schema.exclusiveMinimum === 'number' || schema.exclusiveMinimum === true;
  const maxExclusive =
    typeof schema.exclusiveMaximum === 'number' || schema.exclusiveMaximum === true;
  return {
    min: typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : schema.minimum,
    max: typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : schema.maximum,
    minExclusive,
    maxExclusive,
  };
}

// ---------------------------------------------------------------- invalid values

type Context = 'path' | 'query' | 'header' | 'body';

interface Invalid {
  what: string;
  value: unknown;
}

/** Strings that break a string schema, each for one reason, sendable in the given place. */
function invalidStrings(schema: JsonSchema, context: Context): Invalid[] {
  const out: Invalid[] = [];
  if (schema.enum) {
    out.push({ what: 'not one of the allowed values', value: 'NOT_AN_ALLOWED_VALUE' });
    const first = schema.enum.find((value) => typeof value === 'string');
    if (typeof first === 'string' && first.toLowerCase() !== first) {
      out.push({ what: 'allowed value in the wrong case', value: first.toLowerCase() });
    }
  }
  if (schema.format === 'uuid') {
    out.push(
      { what: 'not a UUID', value: 'not-a-uuid' },
      { what: 'a number instead of a UUID', value: '12345' },
      { what: 'UUID without hyphens', value: EXAMPLE_UUID.replace(/-/g, '') },
      { what: 'UUID with a non-hex digit', value: `g${EXAMPLE_UUID.slice(1)}` },
      { what: 'UUID one digit short', value: EXAMPLE_UUID.slice(0, -1) },
      { what: 'UUID in braces', value: `{${EXAMPLE_UUID}}` },
    );
  } else if (schema.format === 'email') {
    out.push(
      { what: 'email without @', value: 'ada.example.com' },
      { what: 'email without domain', value: 'ada@' },
      { what: 'email without local part', value: '@example.com' },
      { what: 'email with a space', value: 'ada lovelace@example.com' },
      { what: 'email with two @', value: 'ada@home@example.com' },
      // RFC 5321 limits: 64 octets before @, 63 per domain label.
      { what: 'email with 65 characters before @', value: `${'a'.repeat(65)}@example.com` },
      { what: 'email with a 64-character domain label', value: `ada@${'d'.repeat(64)}.com` },
    );
  } else if (schema.pattern !== undefined) {
    const rule = pattern(schema.pattern);
    const breakers = PATTERN_BREAKERS.filter(
      ({ value }) =>
        !rule.test(value) &&
        value.length >= (schema.minLength ?? 0) &&
        value.length <= (schema.maxLength ?? Infinity),
    );
    out.push(
      ...breakers.map(({ what, value }) => ({ what: `${what} (breaks ${schema.pattern})`, value })),
    );
  }
  const emptyFails =
    (schema.minLength ?? 0) >= 1 ||
    schema.format === 'uuid' ||
    schema.format === 'email' ||
    (schema.pattern !== undefined && !pattern(schema.pattern).test(''));
  if (emptyFails) out.push({ what: 'empty string', value: '' });
  if (schema.maxLength !== undefined) {
    out.push({
      what: `${schema.maxLength + 1} characters, over maxLength ${schema.maxLength}`,
      value: lengthen(schema, schema.maxLength + 1),
    });
  }
  return out.filter(({ value }) => sendable(String(value), context));
}

const PATTERN_BREAKERS: ReadonlyArray<{ what: string; value: string }> = [
  { what: 'leading dash', value: '-A1' },
  { what: 'a space', value: 'A 1' },
  { what: 'a semicolon', value: 'A;1' },
  { what: 'a non-ASCII letter', value: 'Äpfel' },
  { what: 'a NUL character', value: 'A\u00001' },
  { what: 'a newline', value: 'A\n1' },
  { what: 'a tab', value: 'A\t1' },
  { what: 'an emoji', value: 'A\u{1F600}1' },
  { what: 'a slash', value: 'A/1' },
  { what: 'a right-to-left override', value: 'A\u202E1' },
  { what: 'a zero-width space', value: 'A\u200B1' },
  { what: 'a byte-order mark inside', value: 'A\uFEFF1' },
];

/** A string of `length` characters that keeps every rule but the length. */
function lengthen(schema: JsonSchema, length: number): string {
  const base = exampleString(schema, 0);
  const padded = ['A', 'a', '1', 'x'].map((filler) =>
    (filler.repeat(Math.max(0, length - base.length)) + base).slice(-length),
  );
  return (
    padded.find((value) => fitsString({ ...schema, maxLength: undefined }, value)) ??
    'x'.repeat(length)
  );
}

/** A header value is a byte string; blanks at either end would be trimmed on the way. */
const HEADER_VALUE = /^[\x21-\x7E\x80-\xFF]([\t\x20-\x7E\x80-\xFF]*[\x21-\x7E\x80-\xFF])?$/;

/** What can travel in each place: headers are byte strings; a path segment must stay one segment. */
function sendable(value: string, context: Context): boolean {
  // Header values are byte strings; leading or trailing blanks would be trimmed on the way.
  if (context === 'header') return value === '' || HEADER_VALUE.test(value);
  if (context === 'path') return value !== '' && value !== '.' && value !== '..';
  return true;
}

/** JSON values of the wrong type for a schema. */
function wrongTypes(schema: JsonSchema): Invalid[] {
  const all: Record<string, Invalid> = {
    string: { what: 'a string', value: '1' },
    number: { what: 'a number', value: 1 },
    boolean: { what: 'a boolean', value: true },
    object: { what: 'an object', value: { value: 1 } },
    array: { what: 'an array', value: [1] },
  };
  const own = schema.type === 'integer' ? 'number' : schema.type;
  const out = Object.entries(all)
    .filter(([type]) => type !== own)
    .map(([, invalid]) => invalid);
  if (!schema.nullable) out.push({ what: 'null', value: null });
  return out;
}

function invalidNumbers(schema: JsonSchema): Invalid[] {
  const { min, max, minExclusive, maxExclusive } = numberBounds(schema);
  const out: Invalid[] = [];
  if (min !== undefined) {
    out.push({ what: `below the minimum ${min}`, value: min - 1 });
    if (minExclusive) out.push({ what: `equal to the exclusive minimum ${min}`, value: min });
    out.push({ what: 'hugely negative (-1e308)', value: -1e308 });
    out.push({ what: 'negative infinity (-1e400)', value: raw('-1e400') });
  }
  if (max !== undefined) {
    out.push({ what: `above the maximum ${max}`, value: max + 1 });
    if (maxExclusive) out.push({ what: `equal to the exclusive maximum ${max}`, value: max });
    out.push({ what: 'huge (1e308)', value: 1e308 });
    out.push({ what: 'infinity (1e400)', value: raw('1e400') });
    out.push({ what: 'a 30-digit integer', value: raw('123456789012345678901234567890') });
  }
  if (schema.type === 'integer') {
    out.push({ what: 'fractional', value: exampleNumber(schema) + 0.5 });
    out.push({ what: 'fractional in exponent form (1.5e0)', value: raw('1.5e0') });
  }
  return out;
}

function invalidQueryNumbers(schema: JsonSchema): Invalid[] {
  const { min, max } = numberBounds(schema);
  const out: Invalid[] = [
    { what: 'not a number', value: 'ten' },
    { what: 'NaN', value: 'NaN' },
    { what: 'infinite', value: '1e400' },
    { what: 'a number followed by letters', value: '5abc' },
  ];
  if (schema.type === 'integer') {
    out.push({ what: 'fractional', value: '1.5' });
    // Number() reads all of these; a query string takes plain decimal digits only.
    const inRange = Math.max(min ?? 1, Math.min(max ?? 16, 16));
    out.push(
      { what: 'in hexadecimal', value: `0x${inRange.toString(16)}` },
      { what: 'in binary', value: `0b${inRange.toString(2)}` },
      { what: 'in exponent form', value: `${inRange}e0` },
      { what: 'with a plus sign', value: `+${inRange}` },
      { what: 'with spaces around it', value: ` ${inRange} ` },
    );
  }
  if (min !== undefined) out.push({ what: `below the minimum ${min}`, value: String(min - 1) });
  if (min !== undefined && min > 0) out.push({ what: 'empty (zero)', value: '' });
  if (max !== undefined) out.push({ what: `above the maximum ${max}`, value: String(max + 1) });
  return out;
}

// ---------------------------------------------------------------- cases per place

/** 401 for no, malformed or refused tokens; 403 for a valid token of a role the route does not admit. */
function authorizationCases(
  operation: Operation,
  credentials: CorpusCredentials | undefined,
): BadRequest[] {
  if (!credentials || !operation.authorization) return [];
  const header = (what: string, value: string) =>
    bad(operation, 'Authorization', what, 'authorization', { headers: { authorization: value } });
  const { roles } = operation;
  const outsider = roles && ROLES.find((role) => !roles.includes(role));
  return [
    bad(operation, 'Authorization', 'missing', 'authorization', { anonymous: true }),
    ...Object.entries({ ...MALFORMED_AUTHORIZATION, ...credentials.refused }).map(([what, value]) =>
      header(what, value),
    ),
    ...(outsider
      ? [
          header(
            `a valid ${outsider} token (admits ${roles.join(', ')})`,
            `Bearer ${credentials.tokens[outsider]}`,
          ),
        ]
      : []),
  ];
}

function pathParameterCases(operation: Operation): BadRequest[] {
  return operation.parameters
    .filter((p) => p.in === 'path')
    .flatMap((parameter) => {
      const schema = parameter.schema;
      const where = `path ${parameter.name}`;
      const invalid =
        schema.type === 'integer' || schema.type === 'number'
          ? invalidQueryNumbers(schema).filter(({ value }) => value !== '')
          : invalidStrings(schema, 'path');
      return [
        ...invalid.map(({ what, value }) =>
          bad(operation, where, what, parameter.name, {
            path: { [parameter.name]: encodeURIComponent(String(value)) },
          }),
        ),
        bad(operation, where, 'broken percent-encoding', '(path)', {
          path: { [parameter.name]: '%E0%A4%A' },
        }),
      ];
    });
}

function queryParameterCases(operation: Operation): BadRequest[] {
  const parameters = operation.parameters.filter((p) => p.in === 'query');
  if (parameters.length === 0) return [];
  const cases = parameters.flatMap((parameter) => {
    const { name, schema } = parameter;
    const where = `query ${name}`;
    const invalid =
      schema.type === 'integer' || schema.type === 'number'
        ? invalidQueryNumbers(schema)
        : invalidStrings(schema, 'query');
    const valid = String(example(schema));
    return [
      ...invalid.map(({ what, value }) =>
        bad(operation, where, what, name, { query: [[name, String(value)]] }),
      ),
      bad(operation, where, 'given twice', name, {
        query: [
          [name, valid],
          [name, valid],
        ],
      }),
      ...(parameter.required ? [bad(operation, where, 'missing', name, { drop: [name] })] : []),
    ];
  });
  // Operations that declare their query parameters refuse any other.
  cases.push(
    bad(operation, 'query', 'unknown parameter', 'unexpected', { query: [['unexpected', '1']] }),
    bad(operation, 'query', 'bracketed array parameter', 'filter[]', {
      query: [['filter[]', '1']],
    }),
  );
  return cases;
}

function headerParameterCases(operation: Operation): BadRequest[] {
  return operation.parameters
    .filter((p) => p.in === 'header')
    .flatMap(({ name, schema }) =>
      invalidStrings(schema, 'header').map(({ what, value }) =>
        bad(operation, `header ${name}`, what, name, { headers: { [name]: String(value) } }),
      ),
    );
}

function bodyCases(operation: Operation): BadRequest[] {
  const schema = operation.body;
  if (!schema) return [];
  const valid = example(schema);
  return [...fieldCases(operation, schema, valid, []), ...wholeBodyCases(operation, schema, valid)];
}

/** Every way to break the value at `path` inside the valid body, then the same for its children. */
function fieldCases(
  operation: Operation,
  schema: JsonSchema,
  valid: unknown,
  path: string[],
): BadRequest[] {
  const where = ['body', ...path].join('.');
  const field = (...more: string[]) => [...path, ...more].join('.');
  const withValue = (value: unknown) => ({ body: { json: replaceAt(valid, path, value) } });
  // The body as a whole (null, a number, an array...) is broken by the hand-written cases.
  const cases: Invalid[] = path.length > 0 ? [...wrongTypes(schema)] : [];
  if (schema.type === 'string') cases.push(...invalidStrings(schema, 'body'));
  if (schema.type === 'integer' || schema.type === 'number') cases.push(...invalidNumbers(schema));
  const out = cases.map(({ what, value }) =>
    bad(operation, where, what, field(), withValue(value)),
  );

  if (schema.type === 'object') {
    const current = valueAt(valid, path) as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      const { [key]: _dropped, ...rest } = current;
      out.push(bad(operation, `${where}.${key}`, 'missing', field(key), withValue(rest)));
    }
    if (schema.additionalProperties === false) {
      const extra = withValue({ ...current, unexpected: 1 });
      out.push(bad(operation, where, 'unknown field', field('unexpected'), extra));
    }
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (key in current) out.push(...fieldCases(operation, child, valid, [...path, key]));
    }
  }
  if (schema.type === 'array') {
    const current = valueAt(valid, path) as unknown[];
    const items = schema.items ?? {};
    const arrayCase = (what: string, value: unknown[]) =>
      out.push(bad(operation, where, what, field(), withValue(value)));
    if ((schema.minItems ?? 0) >= 1) arrayCase('empty array', []);
    if (schema.maxItems !== undefined) {
      const tooMany = Array.from({ length: schema.maxItems + 1 }, (_, i) => example(items, i));
      arrayCase(`${tooMany.length} items, over maxItems ${schema.maxItems}`, tooMany);
    }
    const first = current[0];
    if (first !== undefined) {
      if (items.type === 'object' && items.properties?.sku) {
        arrayCase('the same SKU on two lines', [first, first]);
      } else if (schema.uniqueItems) {
        arrayCase('duplicate items', [first, first]);
      }
      out.push(...fieldCases(operation, items, valid, [...path, '0']));
    }
  }
  return out;
}

function wholeBodyCases(operation: Operation, schema: JsonSchema, valid: unknown): BadRequest[] {
  const text = JSON.stringify(valid);
  const firstKey = Object.keys(schema.properties ?? {})[0] ?? 'field';
  const rawBody = (
    what: string,
    field: string | undefined,
    body: string | Buffer,
    contentType: string | null = JSON_TYPE,
  ) => bad(operation, 'body', what, field, { body: { raw: body }, contentType });
  const malformed = (what: string, body: string) =>
    rawBody(`malformed JSON (${what})`, '(body)', body);
  const notJson = (what: string, body: string | Buffer, contentType: string | null) =>
    rawBody(what, 'content-type', body, contentType);
  const cases = [
    malformed('cut in half', text.slice(0, Math.floor(text.length / 2))),
    malformed('trailing comma', `${text.slice(0, -1)},}`),
    malformed('single quotes', text.replace(/"/g, "'")),
    malformed('unquoted key', `{${firstKey}: 1}`),
    malformed('a comment', `/* note */ ${text}`),
    malformed('just an opening brace', '{'),
    // A JSON body must be an object or array: anything else is refused while parsing.
    malformed('null', 'null'),
    malformed('a string', '"order"'),
    malformed('a number', '42'),
    rawBody('an empty array', '(body)', '[]'),
    rawBody('an array holding the valid body', '(body)', `[${text}]`),
    rawBody(
      'a field given twice, the last time as a number',
      firstKey,
      `${text.slice(0, -1)},"${firstKey}":42}`,
    ),
    rawBody('a __proto__ field', '__proto__', `{"__proto__":{"admin":true},${text.slice(1)}`),
    rawBody('deeply nested unknown field', 'a', `${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}`),
    rawBody(
      'deeply nested arrays (20000 levels)',
      '(body)',
      `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    ),
    rawBody(
      `valid JSON over ${BODY_LIMIT_BYTES / 1024} KB`,
      '(body)',
      JSON.stringify({ ...(valid as object), padding: 'x'.repeat(BODY_LIMIT_BYTES + 1_000) }),
    ),
    notJson('sent as text/plain', text, 'text/plain'),
    notJson('sent as a form', `${firstKey}=1`, 'application/x-www-form-urlencoded'),
    notJson('sent as XML', '<order/>', 'application/xml'),
    notJson('sent as multipart', '--x\r\n\r\n--x--', 'multipart/form-data; boundary=x'),
    notJson('sent without content-type', Buffer.from(text), null),
    notJson('JSON in an unsupported charset', text, 'application/json; charset=iso-8859-1'),
    // body-parser itself decodes any utf-*; JSON between systems is UTF-8 only (RFC 8259).
    notJson('JSON in UTF-16', Buffer.from(text, 'utf16le'), 'application/json; charset=utf-16'),
    notJson('JSON claiming UTF-32', text, 'application/json; charset=utf-32'),
    notJson('a content-type that is not a media type', text, 'application json'),
    bad(operation, 'body', 'compressed, and not what it claims', 'content-encoding', {
      body: { raw: Buffer.from('not gzip at all') },
      headers: { 'content-encoding': 'gzip' },
    }),
    bad(operation, 'body', 'compressed for real (gzip)', 'content-encoding', {
      body: { raw: gzipSync(text) },
      headers: { 'content-encoding': 'gzip' },
    }),
    bad(operation, 'body', 'compressed with an unknown coding', 'content-encoding', {
      body: { raw: Buffer.from(text) },
      headers: { 'content-encoding': 'br, x-unknown' },
    }),
  ];
  const required = schema.required ?? [];
  if (required.length > 0) {
    cases.push(rawBody('empty', required[0], ''), rawBody('an empty object', required[0], '{}'));
  }
  return cases;
}

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Why an answer breaks the promise for bad input (a 4xx whose JSON body lists issues, each a
 * field and a problem, one of them the request's field), or undefined when it keeps it.
 */
export function rejectionProblem(request: BadRequest, answer: Answer): string | undefined {
  if (answer.status < 400 || answer.status > 499) return `status ${answer.status}, not 4xx`;
  if (!answer.contentType.includes(JSON_TYPE)) return `content-type ${answer.contentType}`;
  let issues: unknown;
  try {
    issues = (JSON.parse(answer.body) as { issues?: unknown }).issues;
  } catch {
    return 'the body is not JSON';
  }
  const named = Array.isArray(issues)
    ? issues.filter(
        (issue): issue is { field: string; problem: string } =>
          typeof issue?.field === 'string' &&
          typeof issue?.problem === 'string' &&
          issue.problem.length > 0,
      )
    : [];
  if (named.length === 0) return 'no issues naming a field and a problem';
  const { field } = request;
  if (
    field !== undefined &&
    !named.some((i) => i.field === field || i.field.startsWith(`${field}.`))
  ) {
    return `no issue names ${field}: ${JSON.stringify(named)}`;
  }
  return undefined;
}

function valueAt(root: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (node, key) => (node as Record<string, unknown> | undefined)?.[key],
    root,
  );
}

function replaceAt(root: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [string, ...string[]];
  if (Array.isArray(root)) {
    return root.map((item, index) => (String(index) === key ? replaceAt(item, rest, value) : item));
  }
  const node = root as Record<string, unknown>;
  return { ...node, [key]: replaceAt(node[key], rest, value) };
}
