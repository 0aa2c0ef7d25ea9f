import { trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import { currentLogContext, type LogContext } from './context';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  service: string;
  level: LogLevel;
  format: LogFormat;
}

/** JSON lines by default (for machines), one readable line per entry with LOG_FORMAT=pretty. */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: logFields,
    transport:
      options.format === 'pretty'
        ? {
            target: 'pino-pretty',
            options: {
              colorize: true,
              singleLine: true,
              ignore: 'pid,hostname,service',
              translateTime: 'HH:MM:ss.l',
            },
          }
        : undefined,
  });
}

/**
 * What every line carries besides its message: the unit of work's ids, and the active span's
 * trace and span ids, so a log line leads to its trace and back.
 */
export function logFields(): LogContext & { traceId?: string; spanId?: string } {
  const context = currentLogContext();
  const span = trace.getActiveSpan()?.spanContext();
  if (!span || !trace.isSpanContextValid(span)) return { ...context };
  return { ...context, traceId: span.traceId, spanId: span.spanId };
}
