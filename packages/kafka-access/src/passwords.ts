import { createHmac } from 'node:crypto';
import { KAFKA_ADMIN, KAFKA_PRINCIPALS, type KafkaPrincipal } from './access-table';

/**
 * Local and test passwords of every principal, derived from the admin password: every process
 * that knows it (parallel test workers, the stack's tools) agrees without sharing a file.
 * Deployments set real, independent passwords instead (compose reads them from .env).
 */
export function derivedKafkaPasswords(
  adminPassword: string,
): Record<KafkaPrincipal | typeof KAFKA_ADMIN, string> {
  const passwords = Object.fromEntries(
    KAFKA_PRINCIPALS.map((principal) => [
      principal,
      createHmac('sha256', adminPassword).update(`kafka:${principal}`).digest('base64url'),
    ]),
  ) as Record<KafkaPrincipal, string>;
  return { ...passwords, [KAFKA_ADMIN]: adminPassword };
}

/** SCRAM mechanism every principal authenticates with (the broker enables only this one). */
export const KAFKA_SASL_MECHANISM = 'scram-sha-256' as const;

/** The `--add-scram` value kafka-storage format takes for one user. */
export function scramCredentialArgument(name: string, password: string): string {
  // The tool splits on , ] and = and takes quotes literally: keep to characters it passes through.
  if (!/^[\w.~-]+$/.test(name) || !/^[\w.~-]+$/.test(password)) {
    throw new Error(
      `SCRAM user ${name}: name and password may hold only letters, digits and _ . ~ -`,
    );
  }
  return `SCRAM-SHA-256=[name=${name},password=${password}]`;
}
