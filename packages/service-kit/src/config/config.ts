import { hostname } from 'node:os';
import { z } from 'zod';
import { tracingConfigSchema } from '@shop/telemetry';
import { formatIssues } from '@shop/contracts';
import type { KafkaCredentials } from '@shop/messaging';

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

/** A request that has not fully arrived by then (headers and body) is answered 408 and closed. */
export const httpRequestTimeoutSchema = z.coerce
  .number()
  .int()
  .min(100)
  .max(300_000)
  .default(10_000);

/**
 * How a client authenticates to Kafka (SASL/SCRAM); the brokers refuse anonymous clients. The
 * username is the principal the access table grants rights to.
 */
export function kafkaSaslSchema(defaultUsername: string) {
  return {
    KAFKA_SASL_MECHANISM: z.enum(['scram-sha-256', 'scram-sha-512']).default('scram-sha-256'),
    KAFKA_SASL_USERNAME: z.string().min(1).default(defaultUsername),
    KAFKA_SASL_PASSWORD: z
      .string({ message: "required: the password of this client's Kafka principal" })
      .min(1, "required: the password of this client's Kafka principal"),
  };
}

/** The SASL settings of a validated config, as the messaging package takes them. */
export function kafkaCredentials(config: {
  KAFKA_SASL_MECHANISM: 'scram-sha-256' | 'scram-sha-512';
  KAFKA_SASL_USERNAME: string;
  KAFKA_SASL_PASSWORD: string;
}): KafkaCredentials {
  return {
    mechanism: config.KAFKA_SASL_MECHANISM,
    username: config.KAFKA_SASL_USERNAME,
    password: config.KAFKA_SASL_PASSWORD,
  };
}

/** Variables every service reads; a service extends this with its own. */
export function baseConfigSchema(defaults: { serviceName: string; port: number }) {
  return z.object({
    // Read first by startTracing (before the service loads); here so one message names every problem.
    ...tracingConfigSchema.shape,
    PORT: z.coerce.number().int().min(1).max(65_535).default(defaults.port),
    /** The service's own role: reads and writes its tables, cannot alter or drop them. */
    DATABASE_URL: postgresUrl,
    /**
     * Named prepared statements for the service's queries (parsed and planned once per
     * connection); off behind a pooler in transaction mode, where the next call may reach
     * another server connection.
     */
    DATABASE_PREPARED_STATEMENTS: booleanFromEnv.default(true),
    /** The schema owner's role, for migrations; needed only with MIGRATE_ON_START. */
    MIGRATION_DATABASE_URL: postgresUrl.optional(),
    KAFKA_BROKERS: brokerListSchema,
    KAFKA_CLIENT_ID: z.string().min(1).default(defaults.serviceName),
    KAFKA_GROUP_ID: z.string().min(1).default(defaults.serviceName),
    /** Consumed offsets are committed at most this often (0: after every fetched batch). */
    KAFKA_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(100),
    ...kafkaSaslSchema(defaults.serviceName),
    /** This process among the service's replicas, recorded with what it handles and publishes. */
    REPLICA_ID: z
      .string()
      .regex(/^[\w.#:-]{1,100}$/, 'expected 1-100 letters, digits or . _ # : -')
      .default(() => `${hostname()}-${process.pid}`),
    LOG_LEVEL: logLevelSchema,
    LOG_FORMAT: logFormatSchema,
    HTTP_REQUEST_TIMEOUT_MS: httpRequestTimeoutSchema,
    /** Writes one client address may make per minute (429 beyond); 0 means no limit. */
    HTTP_WRITES_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
    MIGRATE_ON_START: booleanFromEnv.default(true),
    /** Serve the OpenAPI document and Swagger UI at /docs; off for APIs only other systems call. */
    API_DOCS: booleanFromEnv.default(true),
    /** The OpenID Connect issuer whose access tokens the HTTP API accepts (the token's `iss`). */
    AUTH_ISSUER_URL: z.url({ message: "required: the identity provider's issuer URL" }),
    /** The audience the tokens must name (`aud`): the IdP's resource indicator for these APIs. */
    AUTH_AUDIENCE: z.string().min(1).default('urn:order-flow:api'),
    /** Where the issuer's signing keys are read; defaults to <AUTH_ISSUER_URL>/jwks. */
    AUTH_JWKS_URL: z.url().optional(),
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

/** The URL migrations run with; a service told to migrate without one cannot start. */
export function migrationDatabaseUrl(config: BaseConfig): string {
  if (!config.MIGRATION_DATABASE_URL) {
    throw new ConfigError(
      'MIGRATION_DATABASE_URL: required when MIGRATE_ON_START is true (the schema owner role applies migrations; DATABASE_URL cannot)',
    );
  }
  return config.MIGRATION_DATABASE_URL;
}
