import { Writable } from 'node:stream';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import pino from 'pino';
import { bindCorrelationId, runWithLogContext } from './context';
import { logFields } from './logger';

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ mixin: logFields }, sink);
  return { logger, lines };
}

describe('log context', () => {
  it('puts the correlation and event ids of the current unit of work on every line', () => {
    const { logger, lines } = captureLogger();
    runWithLogContext({ correlationId: 'order-1', eventId: 'event-1' }, () =>
      logger.info('handled'),
    );
    expect(lines[0]).toMatchObject({
      correlationId: 'order-1',
      eventId: 'event-1',
      msg: 'handled',
    });
  });

  it('binds a correlation id learnt midway to the rest of the unit of work only', () => {
    const { logger, lines } = captureLogger();
    runWithLogContext({}, () => {
      logger.info('before');
      bindCorrelationId('order-2');
      logger.info('after');
    });
    logger.info('outside');
    expect(lines.map((line) => line.correlationId)).toEqual([undefined, 'order-2', undefined]);
  });
});

describe('trace ids', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => context.disable());

  it("puts the active span's trace and span ids on every line, and none outside a span", () => {
    const { logger, lines } = captureLogger();
    const span = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(context.active(), span), () => logger.info('traced'));
    logger.info('untraced');
    expect(lines[0]).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    });
    expect(lines[1]).not.toHaveProperty('traceId');
  });
});
