import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { spawnManaged, waitUntilServing } from './child';
import { findRepoRoot } from './paths';
import { assertPortFree } from './wait';

/** The audience of every order-flow API token: the IdP's resource indicator for them. */
export const API_AUDIENCE = 'urn:order-flow:api';

interface SeededUser {
  username: string;
  password: string;
  email: string;
  roles: string[];
}

interface SeededClient {
  clientId: string;
  kind: 'password' | 'service' | 'browser';
  secret?: string;
}

interface Seed {
  users: SeededUser[];
  clients: SeededClient[];
}

/** The identities the local IdP is seeded with (tooling/identity-provider/seed.json). */
function seed(): Seed {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- JSON data shared with the ESM IdP
  return require('@shop/identity-provider/seed.json') as Seed;
}

/** A seeded user's name (customers ada, grace, alan; admin) or a service client's id. */
export type Identity = 'ada' | 'grace' | 'alan' | 'admin' | 'flow-console' | 'shop-operator';

export interface RunningIdentityProvider {
  issuerUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export interface IdentityProviderOptions {
  port: number;
  /** What tokens carry as `iss`; defaults to http://localhost:<port>. */
  issuerUrl?: string;
  /** The private signing key (JWK JSON); the IdP makes its own without one. */
  signingKeyJwk?: string;
  log?: (line: string) => void;
}

/** The local OpenID Connect provider (tooling/identity-provider) as a child process. */
export async function startIdentityProvider(
  options: IdentityProviderOptions,
): Promise<RunningIdentityProvider> {
  await assertPortFree(options.port);
  const issuerUrl = options.issuerUrl ?? `http://localhost:${options.port}`;
  const child = spawnManaged({
    command: process.execPath,
    args: [join(findRepoRoot(), 'tooling', 'identity-provider', 'dist', 'main.js')],
    env: {
      ...process.env,
      PORT: String(options.port),
      ISSUER_URL: issuerUrl,
      API_AUDIENCE,
      ...(options.signingKeyJwk ? { SIGNING_KEY_JWK: options.signingKeyJwk } : {}),
    },
    keepLines: 200,
    ...(options.log ? { log: options.log } : {}),
  });
  const discovery = `http://127.0.0.1:${options.port}/.well-known/openid-configuration`;
  await waitUntilServing(child, 'identity provider', discovery, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return {
    issuerUrl,
    pid: child.pid,
    stop: async () => {
      await child.terminate('SIGTERM', 5_000);
    },
  };
}

/** A fresh RS256 key pair for an IdP the caller starts: the private JWK (with its kid) as JSON. */
export async function newSigningKeyJwk(): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return JSON.stringify({
    ...jwk,
    kid: `test-${Date.now().toString(36)}`,
    alg: 'RS256',
    use: 'sig',
  });
}

/**
 * A real access token from the IdP at `issuerUrl` for a seeded identity: a user through the
 * command-line client's password grant, a service client through client credentials.
 */
export async function issueToken(issuerUrl: string, identity: Identity): Promise<string> {
  const { users, clients } = seed();
  const user = users.find((candidate) => candidate.username === identity);
  const service = clients.find((candidate) => candidate.clientId === identity);
  const form = new URLSearchParams();
  const headers: Record<string, string> = {};
  if (user) {
    form.set('grant_type', 'password');
    form.set('client_id', 'order-flow-cli');
    form.set('username', user.username);
    form.set('password', user.password);
  } else if (service?.secret) {
    form.set('grant_type', 'client_credentials');
    headers.authorization = `Basic ${Buffer.from(`${service.clientId}:${service.secret}`).toString('base64')}`;
  } else {
    throw new Error(`"${identity}" is neither a seeded user nor a service client of the IdP`);
  }
  const response = await fetch(`${issuerUrl.replace(/\/$/, '')}/token`, {
    method: 'POST',
    headers,
    body: form,
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await response.json()) as { access_token?: string; error_description?: string };
  if (!response.ok || !answer.access_token) {
    throw new Error(
      `the IdP refused a token for ${identity}: ${response.status} ${answer.error_description ?? ''}`,
    );
  }
  return answer.access_token;
}

/** The seeded email of a user (what the token's `email` claim says). */
export function seededEmail(identity: Identity): string {
  const user = seed().users.find((candidate) => candidate.username === identity);
  if (!user) throw new Error(`"${identity}" is not a seeded user`);
  return user.email;
}

/** The seeded secret of a service client (flow-console, shop-operator). */
export function seededClientSecret(clientId: string): string {
  const secret = seed().clients.find((client) => client.clientId === clientId)?.secret;
  if (!secret) throw new Error(`"${clientId}" is not a seeded service client`);
  return secret;
}
