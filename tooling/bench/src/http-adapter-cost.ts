#!/usr/bin/env node
/**
 * `node tooling/bench/dist/http-adapter-cost.js [--rounds=3] [--seconds=10] [--rates=200,1000]`:
 * the server CPU per request of Nest's Express adapter (what the services run) against its
 * Fastify adapter, with a bare node:http server as the floor: what moving to Fastify could gain.
 *
 * Each server is a child process started alone, given a warm-up, then driven open loop for the
 * measured window; its CPU is its own user+system time over that window (process.cpuUsage,
 * asked over IPC before and after). The runs alternate express, fastify, bare per rate and round,
 * so a machine that drifts during the invocation drifts for all three alike.
 *
 * Both Nest apps do per request what the services' createHttpApplication does: helmet, a UTF-8
 * charset check, JSON bodies of at most 64 KB, a global guard (a Bearer check, not the token
 * verification: that costs the same on either adapter), a zod pipe over the order body, and a
 * 202 with a Location and the order as JSON. The bare server reads, parses and validates the same
 * body and gives the same answer without Nest or helmet. Not mirrored: the metrics and log-context
 * middleware and the throttler; they add the same work on either adapter, plus a middleware hop.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { MIMEType, parseArgs } from 'node:util';
import fastifyHelmet from '@fastify/helmet';
import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Module,
  Post,
  Res,
  UnsupportedMediaTypeException,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type PipeTransform,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import { z } from 'zod';
import { skuSchema } from '@shop/contracts';
import { loadAgent, runOpenLoop } from './load-generator';
import { distribution, spread } from './stats';

const VARIANTS = ['express', 'fastify', 'bare'] as const;
type Variant = (typeof VARIANTS)[number];

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    rates: { type: 'string', default: '200,1000' },
    serve: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const MEASURED_MS = Number(args.seconds) * 1_000;
const RATES = args.rates.split(',').map(Number);
/** The same for every run, whatever its rate: enough requests for the JIT to settle first. */
const WARM_UP = { rate: 1_000, durationMs: 2_000 };

/** As in the services (service-kit's http-application.ts). */
const BODY_LIMIT_BYTES = 64 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HELMET_OPTIONS = { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } };

/** The order service's placeOrderSchema, without its wording of errors (never reached here). */
const placeOrderSchema = z.strictObject({
  items: z
    .array(
      z.strictObject({
        sku: skuSchema,
        quantity: z.number().int().positive().max(10_000),
      }),
    )
    .min(1)
    .max(50)
    .refine((items) => new Set(items.map((item) => item.sku)).size === items.length, {
      message: 'each SKU may appear only once; add up the quantities instead',
    }),
});
type PlaceOrder = z.output<typeof placeOrderSchema>;

/** What the order service answers a placed order with: the order as PENDING. */
function accepted(order: PlaceOrder) {
  const now = new Date().toISOString();
  const { items } = order;
  const id = randomUUID();
  return {
    id,
    status: 'PENDING',
    customerEmail: 'bench@example.invalid',
    items,
    createdAt: now,
    updatedAt: now,
  };
}

/** service-kit's utf8BodiesOnly: JSON is accepted in UTF-8 only. */
function charsetProblem(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  try {
    const charset = new MIMEType(contentType).params.get('charset');
    if (charset === null || ['utf-8', 'utf8'].includes(charset.toLowerCase())) return undefined;
    return `has charset "${charset}"; JSON is accepted in utf-8 only`;
  } catch {
    return 'is not a media type (expected e.g. application/json)';
  }
}

function isBearer(header: string | undefined): boolean {
  return header !== undefined && header.startsWith('Bearer ');
}

class OrderBodyPipe implements PipeTransform<unknown, PlaceOrder> {
  transform(value: unknown): PlaceOrder {
    if (value === undefined) throw new UnsupportedMediaTypeException('the body must be JSON');
    const result = placeOrderSchema.safeParse(value);
    if (result.success) return result.data;
    throw new BadRequestException(result.error.issues.map((issue) => issue.message).join('; '));
  }
}

/** Stands in for the services' AuthGuard; false answers 403. */
class BearerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    return isBearer(request.headers.authorization);
  }
}

/** Both Express's response and Fastify's reply have header(name, value). */
interface HeaderSetter {
  header(name: string, value: string): unknown;
}

@Controller('orders')
class OrdersController {
  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  place(
    @Body(new OrderBodyPipe()) body: PlaceOrder,
    @Res({ passthrough: true }) response: HeaderSetter,
  ): ReturnType<typeof accepted> {
    const order = accepted(body);
    response.header('location', `/orders/${order.id}`);
    return order;
  }
}

@Module({ controllers: [OrdersController] })
class OrdersModule {}

async function listen(app: INestApplication): Promise<number> {
  app.useGlobalGuards(new BearerGuard());
  (app.getHttpServer() as Server).keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await app.listen(0, '127.0.0.1');
  return portOf(app.getHttpServer() as Server);
}

async function startExpress(): Promise<number> {
  const app = await NestFactory.create<NestExpressApplication>(OrdersModule, new ExpressAdapter(), {
    logger: false,
    bodyParser: false,
  });
  app.use(helmet(HELMET_OPTIONS));
  app.use((request: IncomingMessage, response: ServerResponse, next: () => void) => {
    const problem = charsetProblem(request.headers['content-type']);
    if (problem === undefined) return next();
    answer(response, HttpStatus.UNSUPPORTED_MEDIA_TYPE, { message: `content-type ${problem}` });
  });
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES, inflate: false });
  return listen(app);
}

async function startFastify(): Promise<number> {
  const app = await NestFactory.create<NestFastifyApplication>(
    OrdersModule,
    new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
    { logger: false },
  );
  await app.register(fastifyHelmet, HELMET_OPTIONS);
  // A hook rather than app.use: what a port to Fastify would write, without middie's hop.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      const problem = charsetProblem(request.headers['content-type']);
      if (problem === undefined) return done();
      void reply
        .code(HttpStatus.UNSUPPORTED_MEDIA_TYPE)
        .send({ message: `content-type ${problem}` });
    });
  return listen(app);
}

async function startBare(): Promise<number> {
  const server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/orders') {
      return answer(response, HttpStatus.NOT_FOUND, { message: 'not found' });
    }
    if (!isBearer(request.headers.authorization)) {
      return answer(response, HttpStatus.FORBIDDEN, { message: 'forbidden' });
    }
    const problem = charsetProblem(request.headers['content-type']);
    if (problem !== undefined) {
      return answer(response, HttpStatus.UNSUPPORTED_MEDIA_TYPE, { message: problem });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > BODY_LIMIT_BYTES) {
        return answer(response, HttpStatus.PAYLOAD_TOO_LARGE, { message: 'too large' });
      }
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(response, HttpStatus.BAD_REQUEST, { message: 'not JSON' });
      }
      const result = placeOrderSchema.safeParse(value);
      if (!result.success) return answer(response, HttpStatus.BAD_REQUEST, { message: 'invalid' });
      const order = accepted(result.data);
      response.setHeader('location', `/orders/${order.id}`);
      answer(response, HttpStatus.ACCEPTED, order);
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return portOf(server);
}

function answer(response: ServerResponse, status: number, body: object): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  return address.port;
}

const START: Record<Variant, () => Promise<number>> = {
  express: startExpress,
  fastify: startFastify,
  bare: startBare,
};

interface ServerReply {
  port?: number;
  cpuUs?: number;
}

/** The child: starts one server, tells the parent its port, answers CPU readings until killed. */
async function serve(variant: Variant): Promise<void> {
  const send = (reply: ServerReply) => process.send?.(reply);
  send({ port: await START[variant]() });
  process.on('message', () => {
    const usage = process.cpuUsage();
    send({ cpuUs: usage.user + usage.system });
  });
  process.on('disconnect', () => process.exit(0));
}

interface Run {
  round: number;
  variant: Variant;
  rate: number;
  answered: number;
  errors: number;
  cpuUsPerRequest: number;
  p50: number | null;
  p99: number | null;
}

const AUTHORIZATION = 'Bearer bench';
const BODIES = Array.from({ length: 100 }, (_, index) =>
  Buffer.from(JSON.stringify({ items: [{ sku: `BENCH-${index % 10}`, quantity: 1 }] })),
);

function nextReply(child: ChildProcess): Promise<ServerReply> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server exited with ${code}`));
    child.once('exit', onExit);
    child.once('message', (reply) => {
      child.off('exit', onExit);
      resolve(reply as ServerReply);
    });
  });
}

async function cpuOf(child: ChildProcess): Promise<number> {
  const reply = nextReply(child);
  child.send('cpu');
  return (await reply).cpuUs ?? Number.NaN;
}

/** One request before any load: every variant must give the same kind of answer. */
async function checkAnswer(variant: Variant, url: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: AUTHORIZATION, 'content-type': 'application/json' },
    body: BODIES[0],
  });
  const order = (await response.json()) as { id?: string; status?: string };
  const helmeted = response.headers.get('x-content-type-options') === 'nosniff';
  if (
    response.status !== 202 ||
    response.headers.get('location') !== `/orders/${order.id}` ||
    order.status !== 'PENDING' ||
    helmeted !== (variant !== 'bare')
  ) {
    throw new Error(`${variant} answered ${response.status} ${JSON.stringify(order)}`);
  }
}

async function measure(round: number, variant: Variant, rate: number): Promise<Run> {
  const child = fork(__filename, ['--serve', variant], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const agent = loadAgent();
  try {
    const { port } = await nextReply(child);
    const url = `http://127.0.0.1:${port}/orders`;
    await checkAnswer(variant, url);
    const load = { url, authorization: AUTHORIZATION, rate, bodies: BODIES, agent };
    await runOpenLoop({ ...load, ...WARM_UP });
    const before = await cpuOf(child);
    const result = await runOpenLoop({ ...load, durationMs: MEASURED_MS });
    const after = await cpuOf(child);
    const latencies = Array.from(result.latencyMs.subarray(0, result.sent)).filter(
      (latency, index) => result.status[index] === 202 && !Number.isNaN(latency),
    );
    const errors = [...result.errors.values()].reduce((sum, count) => sum + count, 0);
    const { p50, p99 } = distribution(latencies);
    return {
      round,
      variant,
      rate,
      answered: latencies.length,
      errors,
      cpuUsPerRequest: (after - before) / result.sent,
      p50,
      p99,
    };
  } finally {
    agent.destroy();
    const exited = once(child, 'exit');
    child.kill();
    await exited;
  }
}

function versionOf(name: string, from = __filename): string {
  try {
    return (createRequire(from)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

function fixed(value: number | null, digits = 1): string {
  return value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

function row(values: Array<string | number>, widths: readonly number[]): string {
  return values.map((value, index) => String(value).padStart(widths[index] ?? 8)).join('  ');
}

const write = (line = '') => process.stdout.write(`${line}\n`);

const RUN_COLUMNS = [
  'round',
  'adapter',
  'rate/s',
  'answered',
  'errors',
  'CPU µs/req',
  'p50 ms',
  'p99 ms',
];
const RUN_WIDTHS = [5, 7, 6, 8, 6, 10, 7, 7];

function writeRun(run: Run): void {
  const { round, variant, rate, answered, errors } = run;
  const figures = [fixed(run.cpuUsPerRequest), fixed(run.p50, 2), fixed(run.p99, 2)];
  write(row([round, variant, rate, answered, errors, ...figures], RUN_WIDTHS));
}

function median(runs: Run[], pick: (run: Run) => number | null): number | null {
  return spread(runs.map(pick)).median;
}

function writeSummary(runs: Run[]): void {
  const of = (variant: Variant, rate: number) =>
    runs.filter((run) => run.variant === variant && run.rate === rate);
  const cell = (picked: Run[]) => {
    const [cpu, p50, p99] = [
      median(picked, (run) => run.cpuUsPerRequest),
      median(picked, (run) => run.p50),
      median(picked, (run) => run.p99),
    ];
    return `${fixed(cpu)} (${fixed(p50, 2)} / ${fixed(p99, 2)})`;
  };
  const widths = [6, 22, 22, 22, 17];
  write(`Median of ${ROUNDS} rounds: CPU µs per request (p50 / p99 latency in ms)`);
  write(row(['rate/s', 'express', 'fastify', 'bare', 'express − fastify'], widths));
  for (const rate of RATES) {
    const [express, fastify, bare] = VARIANTS.map((variant) => of(variant, rate));
    const cpu = (picked: Run[] = []) => median(picked, (run) => run.cpuUsPerRequest) ?? Number.NaN;
    const saved = fixed(cpu(express) - cpu(fastify));
    write(row([rate, cell(express ?? []), cell(fastify ?? []), cell(bare ?? []), saved], widths));
  }
  write();
  for (const rate of RATES) {
    const fastify = of('fastify', rate);
    const paired = of('express', rate).map(
      (run, index) => run.cpuUsPerRequest - (fastify[index]?.cpuUsPerRequest ?? Number.NaN),
    );
    const pairedMedian = fixed(spread(paired).median);
    const perRound = paired.map((us) => fixed(us)).join(', ');
    write(`${rate}/s, express − fastify per round: ${perRound} µs; median ${pairedMedian} µs`);
  }
}

async function main(): Promise<void> {
  const expressFrom = require.resolve('@nestjs/platform-express');
  const fastifyFrom = require.resolve('@nestjs/platform-fastify');
  write(
    `Nest ${versionOf('@nestjs/core')}: platform-express ${versionOf('@nestjs/platform-express')} ` +
      `(express ${versionOf('express', expressFrom)}), platform-fastify ` +
      `${versionOf('@nestjs/platform-fastify')} (fastify ${versionOf('fastify', fastifyFrom)}); ` +
      `Node ${process.version}`,
  );
  const load = loadavg().map((average) => average.toFixed(2));
  write(
    `load average ${load.join(' ')} at start; ${ROUNDS} rounds; each run: ` +
      `${WARM_UP.durationMs / 1_000} s warm-up at ${WARM_UP.rate}/s, ${MEASURED_MS / 1_000} s measured`,
  );
  write('CPU: the server process (user+system) over the measured window, per request sent');
  write();
  write(row(RUN_COLUMNS, RUN_WIDTHS));
  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const rate of RATES) {
      for (const variant of VARIANTS) {
        const run = await measure(round, variant, rate);
        runs.push(run);
        writeRun(run);
      }
    }
  }
  write();
  writeSummary(runs);
}

const done = args.serve === undefined ? main() : serve(args.serve as Variant);
done.catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
