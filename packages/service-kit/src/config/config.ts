import { hostname } from 'node:os';
import { z } from 'zod';
import { formatIssues } from '@shop/contracts';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
  .transform((value) => value === 'true' || value === '1');

/** `KAFKA_BROKERS`: a comma-separated list of host:port. */
export const brokerListSchema = z
  .string({ message: 'required: a comma-separated list of host:port' })
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port')).min(1, 'at least one broker'),
  );

const postgresUrl = z
  .string({ message: 'required: postgres://user:password@host:port/database' })
  .regex(/^postgres(ql)?:\/\/.+/, 'expected a postgres:// URL');

export const logLevelSchema = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .default('info');

export const logFormatSchema = z.enum(['json', 'pretty']).default('json');

/** Variables every service reads; a service extends this with its own. */
export function baseConfigSchema(defaults: { serviceName: string; port: number }) {
  return z.object({
    PORT: z.coerce.number().int().min(1).max(65_535).default(defaults.port),
    DATABASE_URL: postgresUrl,
    KAFKA_BROKERS: brokerListSchema,
    KAFKA_CLIENT_ID: z.string().min(1).default(defaults.serviceName),
    KAFKA_GROUP_ID: z.string().min(1).default(defaults.serviceName),
    /** This process among the service's replicas, recorded with what it handles and publishes. */
    REPLICA_ID: z
      .string()
      .regex(/^[\w.#:-]{1,100}$/, 'expected 1-100 letters, digits or . _ # : -')
      .default(() => `${hostname()}-${process.pid}`),
    LOG_LEVEL: logLevelSchema,
    LOG_FORMAT: logFormatSchema,
    MIGRATE_ON_START: booleanFromEnv.default(true),
    /** A graceful stop that takes longer is cut short (exit 1); orchestrators kill at ~30 s. */
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(20_000),
  });
}

export type BaseConfig = z.output<ReturnType<typeof baseConfigSchema>>;

export class ConfigError extends Error {
  constructor(readonly problems: string) {
    super(`invalid configuration: ${problems}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment once, at boot; nothing else reads process.env. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(formatIssues(result.error));
  return result.data;
}
