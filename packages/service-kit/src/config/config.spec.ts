import { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig } from './config';

const schema = baseConfigSchema({ serviceName: 'order-service', port: 3000 });
const valid = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/shop',
  KAFKA_BROKERS: 'a:9092, b:9093',
  KAFKA_SASL_PASSWORD: 'secret',
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
        "PORT: Invalid input: expected number, received NaN; DATABASE_URL: expected a postgres:// URL; KAFKA_BROKERS: required: a comma-separated list of host:port; KAFKA_SASL_PASSWORD: required: the password of this client's Kafka principal; AUTH_ISSUER_URL: required: the identity provider's issuer URL",
      ),
    );
  });

  it('authenticates to Kafka with SCRAM-SHA-256 as the principal named like the service', () => {
    expect(loadConfig(schema, valid)).toMatchObject({
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'order-service',
      KAFKA_SASL_PASSWORD: 'secret',
    });
  });

  it('refuses to start without a Kafka password or with an unknown SASL mechanism', () => {
    const { KAFKA_SASL_PASSWORD: _password, ...withoutPassword } = valid;
    expect(() => loadConfig(schema, withoutPassword)).toThrow(/KAFKA_SASL_PASSWORD: required/);
    expect(() => loadConfig(schema, { ...valid, KAFKA_SASL_PASSWORD: '' })).toThrow(
      /KAFKA_SASL_PASSWORD: required/,
    );
    expect(() => loadConfig(schema, { ...valid, KAFKA_SASL_MECHANISM: 'plain' })).toThrow(
      /KAFKA_SASL_MECHANISM/,
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
