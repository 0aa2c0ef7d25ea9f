import { Writable } from 'node:stream';
import pino from 'pino';
import { bindCorrelationId, currentLogContext, runWithLogContext } from './context';

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ mixin: () => ({ ...currentLogContext() }) }, sink);
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
