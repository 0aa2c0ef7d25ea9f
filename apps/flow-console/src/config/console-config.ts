import { z } from 'zod';
import {
  brokerListSchema,
  httpRequestTimeoutSchema,
  kafkaSaslSchema,
  loadConfig,
  logFormatSchema,
  logLevelSchema,
} from '@shop/service-kit';

const serviceUrls = (service: string, port: number) =>
  z
    .string()
    .default(`http://127.0.0.1:${port}`)
    .transform((value) =>
      value
        .split(',')
        .map((url) => url.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.url({ protocol: /^https?$/, error: `expected http(s) URLs of ${service}` }))
        .min(1, `at least one URL of ${service}`),
    );

// Named one by one: deploy-check reads this object's keys to check what compose gives the console.
const kafkaSasl = kafkaSaslSchema('flow-console');

export const consoleConfigSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65_535).default(3100),
  KAFKA_BROKERS: brokerListSchema,
  KAFKA_CLIENT_ID: z.string().min(1).default('flow-console'),
  /** The console's own group: it reads every record and moves no service's offsets. */
  KAFKA_GROUP_ID: z.string().min(1).default('flow-console'),
  /** The console's principal may read every topic and describe every group, and write nothing. */
  KAFKA_SASL_MECHANISM: kafkaSasl.KAFKA_SASL_MECHANISM,
  KAFKA_SASL_USERNAME: kafkaSasl.KAFKA_SASL_USERNAME,
  KAFKA_SASL_PASSWORD: kafkaSasl.KAFKA_SASL_PASSWORD,
  LOG_LEVEL: logLevelSchema,
  LOG_FORMAT: logFormatSchema,
  HTTP_REQUEST_TIMEOUT_MS: httpRequestTimeoutSchema,
  /**
   * Base URLs of each service, comma-separated, one per replica. A host name that resolves to
   * several addresses (a scaled Compose service) counts every address as a replica.
   */
  ORDER_SERVICE_URLS: serviceUrls('order-service', 3000),
  INVENTORY_SERVICE_URLS: serviceUrls('inventory-service', 3001),
  NOTIFICATION_SERVICE_URLS: serviceUrls('notification-service', 3002),
  /** The identity provider the console gets its own access token from (client credentials). */
  AUTH_ISSUER_URL: z.url({ message: "required: the identity provider's issuer URL" }),
  /** Its token endpoint; defaults to <AUTH_ISSUER_URL>/token. */
  AUTH_TOKEN_URL: z.url().optional(),
  AUTH_CLIENT_ID: z.string().min(1).default('flow-console'),
  AUTH_CLIENT_SECRET: z
    .string({ message: "required: the console's client secret at the IdP" })
    .min(1),
  /** How often Kafka's admin API and the services' figures are read. */
  POLL_INTERVAL_MS: z.coerce.number().int().min(200).max(60_000).default(1_000),
  /** A trace UI (Zipkin's /zipkin); each journey then links to its trace at <url>/traces/<id>. */
  TRACE_UI_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Orders whose records are kept in memory; the oldest are forgotten first. */
  RETAINED_ORDERS: z.coerce.number().int().min(10).max(100_000).default(2_000),
});

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

export function loadConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  return loadConfig(consoleConfigSchema, env);
}

export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
