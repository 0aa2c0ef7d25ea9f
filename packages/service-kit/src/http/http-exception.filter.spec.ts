import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { z } from 'zod';
import type { Logger } from '@shop/logging';
import { HttpExceptionFilter } from './http-exception.filter';
import { RequestHeader } from './request-header.decorator';
import { ZodValidationPipe } from './zod-validation.pipe';

const itemSchema = z.strictObject({
  name: z.string().min(1),
  quantity: z.number().int().positive(),
});

let failure: unknown;

@Controller('things')
class ThingsController {
  @Post(':id')
  create(
    @Param('id', new ZodValidationPipe(z.uuid(), 'id')) id: string,
    @Body(new ZodValidationPipe(itemSchema, 'thing')) body: z.output<typeof itemSchema>,
    @RequestHeader('Idempotency-Key', new ZodValidationPipe(z.string().max(5).optional(), 'header'))
    key: string | undefined,
  ) {
    return { id, ...body, key };
  }

  @Get()
  list(
    @Query(new ZodValidationPipe(z.strictObject({ limit: z.coerce.number().int() }), 'query'))
    query: object,
  ) {
    return query;
  }

  @Get('fail')
  fail() {
    throw failure;
  }
}

const logged: string[] = [];
const logger = {
  warn: (_details: object, message: string) => logged.push(message),
  error: (_details: object, message: string) => logged.push(message),
} as unknown as Logger;

let app: NestExpressApplication;
const id = '3f0c2a6e-4b1d-4c8e-9a57-0d2f5e6b7c81';

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({ controllers: [ThingsController] }).compile();
  app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false });
  // As every service is set up (run-service.ts).
  app.useBodyParser('json', { limit: '64kb' });
  app.useGlobalFilters(new HttpExceptionFilter(logger));
  await app.init();
});

afterAll(async () => {
  await app?.close();
});

function post(path: string) {
  return request(app.getHttpServer()).post(path);
}

describe('the HTTP error answers', () => {
  it('names each invalid field of a body, and every unknown field by its name', async () => {
    const response = await post(`/things/${id}`).send({ name: '', quantity: 1.5, colour: 'red' });
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([
      { field: 'name', problem: expect.any(String) },
      { field: 'quantity', problem: expect.any(String) },
      { field: 'colour', problem: 'unknown field' },
    ]);
    expect(response.body.message).toMatch(/^invalid thing: name: /);
  });

  it('names a path parameter and a header by their names', async () => {
    const badId = await post('/things/not-a-uuid').send({ name: 'a', quantity: 1 });
    expect(badId.status).toBe(400);
    expect(badId.body.issues).toEqual([{ field: 'id', problem: expect.any(String) }]);

    const badKey = await post(`/things/${id}`)
      .set('Idempotency-Key', 'far-too-long')
      .send({ name: 'a', quantity: 1 });
    expect(badKey.status).toBe(400);
    expect(badKey.body.issues).toEqual([{ field: 'Idempotency-Key', problem: expect.any(String) }]);
  });

  it('answers malformed JSON with 400 naming the body', async () => {
    const response = await post(`/things/${id}`)
      .set('content-type', 'application/json')
      .send('{"name": "a",');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining('malformed JSON'),
      issues: [{ field: '(body)', problem: expect.stringContaining('malformed JSON') }],
    });
  });

  it('answers a body over 64 KB with 413 in JSON', async () => {
    const response = await post(`/things/${id}`).send({ name: 'x'.repeat(70_000), quantity: 1 });
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.body.issues).toEqual([
      { field: '(body)', problem: expect.stringMatching(/limit/) },
    ]);
  });

  it('answers a body that is not JSON, or none, with 415 naming content-type', async () => {
    const text = await post(`/things/${id}`).set('content-type', 'text/plain').send('name=a');
    expect(text.status).toBe(415);
    expect(text.body.issues).toEqual([{ field: 'content-type', problem: expect.any(String) }]);

    const none = await post(`/things/${id}`);
    expect(none.status).toBe(415);

    const latin1 = await post(`/things/${id}`)
      .set('content-type', 'application/json; charset=iso-8859-1')
      .send('{}');
    expect(latin1.status).toBe(415);
    expect(latin1.body.issues).toEqual([{ field: 'content-type', problem: expect.any(String) }]);
  });

  it('answers a path that is not valid percent-encoding with 400, not 500', async () => {
    const response = await post('/things/%E0%A4%A').send({ name: 'a', quantity: 1 });
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([{ field: '(path)', problem: expect.any(String) }]);
  });

  it('names a bad query parameter', async () => {
    const response = await request(app.getHttpServer()).get('/things?limit=ten&page=2');
    expect(response.status).toBe(400);
    expect(response.body.issues.map((issue: { field: string }) => issue.field)).toEqual([
      'limit',
      'page',
    ]);
  });

  it('answers 503 with Retry-After when the database stays unreachable', async () => {
    failure = Object.assign(new Error("Can't reach database server"), {
      code: 'P1001',
      meta: { driverAdapterError: { cause: { kind: 'DatabaseNotReachable' } } },
    });
    const response = await request(app.getHttpServer()).get('/things/fail');
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  });

  it('answers anything else with a bare 500 and logs it', async () => {
    failure = new Error('secret detail');
    const response = await request(app.getHttpServer()).get('/things/fail');
    expect(response.status).toBe(500);
    expect(response.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error',
    });
    expect(logged).toContain('unhandled error in HTTP request');
  });
});
