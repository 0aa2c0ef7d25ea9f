import pino, { type Logger } from 'pino';
import { currentLogContext } from './context';

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
    mixin: () => ({ ...currentLogContext() }),
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
