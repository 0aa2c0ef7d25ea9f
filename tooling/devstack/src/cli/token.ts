#!/usr/bin/env node
/**
 * `pnpm token [customer|admin|<seeded name>]`: prints an access token of the running `pnpm stack`'s
 * identity provider for a seeded user (customer: ada) or service client, and nothing else, so
 * `TOKEN=$(pnpm -s token customer)` works in a shell.
 */
import { issueToken, type Identity } from '../identity-provider';

const ALIASES: Record<string, Identity> = {
  customer: 'ada',
  admin: 'admin',
  operator: 'shop-operator',
};
const IDENTITIES: readonly Identity[] = [
  'ada',
  'grace',
  'alan',
  'admin',
  'flow-console',
  'shop-operator',
];

async function main(): Promise<number> {
  const [asked = 'customer', ...rest] = process.argv.slice(2);
  const identity = ALIASES[asked] ?? IDENTITIES.find((known) => known === asked);
  if (!identity || rest.length > 0) {
    console.error(
      `usage: token [customer|admin|operator|${IDENTITIES.join('|')}] (got "${process.argv.slice(2).join(' ')}")`,
    );
    return 2;
  }
  const issuer = process.env.AUTH_ISSUER_URL ?? `http://localhost:${process.env.IDP_PORT ?? 4000}`;
  try {
    process.stdout.write(`${await issueToken(issuer, identity)}\n`);
    return 0;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`no token from ${issuer}: ${reason} (is \`pnpm stack\` running?)`);
    return 1;
  }
}

void main().then((code) => process.exit(code));
