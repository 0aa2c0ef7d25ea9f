import { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig } from './config';

const schema = baseConfigSchema({ serviceName: 'order-service', port: 3000 });
const valid = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/shop',
  KAFKA_BROKERS: 'a:9092, b:9093',
  AUTH_ISSUER_URL: 'http://localhost:4000',
};

describe('configuration', () => {
  it('fills defaults and splits the broker list', () => {
    const config = loadConfig(schema, valid);
    expect(config).toMatchObject({
      PORT: 3000,
      KAFKA_BROKERS: ['a:9092', 'b:9093'],
      KAFKA_GROUP_ID: 'order-service',
      MIGRATE_ON_START: true,
      AUTH_AUDIENCE: 'urn:order-flow:api',
    });
  });

  it('names every missing or malformed variable in one error', () => {
    expect(() => loadConfig(schema, { PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(
      new ConfigError(
        "PORT: Invalid input: expected number, received NaN; DATABASE_URL: expected a postgres:// URL; KAFKA_BROKERS: required: a comma-separated list of host:port; AUTH_ISSUER_URL: required: the identity provider's issuer URL",
      ),
    );
  });

  it('rejects a broker without a port', () => {
    expect(() => loadConfig(schema, { ...valid, KAFKA_BROKERS: 'kafka' })).toThrow(
      /KAFKA_BROKERS.*host:port/,
    );
  });

  it('lets a service add its own variables', () => {
    const extended = schema.extend({ SMTP_URL: z.url() });
    expect(() => loadConfig(extended, valid)).toThrow(/SMTP_URL/);
  });
});
