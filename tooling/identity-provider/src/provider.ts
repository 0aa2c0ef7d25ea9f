import { generateKeyPairSync, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import Provider, { errors, type ClientMetadata, type JWK } from 'oidc-provider';
import type { IdentityProviderConfig } from './config.js';
import type { Seed, SeededClient, SeededUser } from './seed.js';

/** The scope the APIs' tokens carry; roles, not scopes, decide what a caller may do. */
const API_SCOPE = 'api';

/**
 * An OpenID Connect provider for the seeded identities: JWT access tokens for the APIs' audience
 * (RFC 9068, `typ: at+jwt`) with `email` and `roles` claims, and its keys at /jwks.
 */
export function createIdentityProvider(config: IdentityProviderConfig, seed: Seed): Provider {
  const users = new Map(seed.users.map((user) => [user.username, user]));
  const services = new Map(
    seed.clients.flatMap((client) =>
      client.kind === 'service' ? [[client.clientId, client]] : [],
    ),
  );
  const resourceServer = {
    scope: API_SCOPE,
    audience: config.API_AUDIENCE,
    accessTokenFormat: 'jwt' as const,
    accessTokenTTL: config.ACCESS_TOKEN_TTL_SECONDS,
    jwt: { sign: { alg: 'RS256' as const } },
  };

  const provider = new Provider(config.ISSUER_URL, {
    clients: seed.clients.map(clientMetadata),
    jwks: { keys: [signingKey(config)] },
    // Grants live in memory: this provider is for one machine's stack.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'email', API_SCOPE],
    claims: { openid: ['sub'], email: ['email'] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    ttl: {
      AccessToken: config.ACCESS_TOKEN_TTL_SECONDS,
      ClientCredentials: config.ACCESS_TOKEN_TTL_SECONDS,
      Grant: config.ACCESS_TOKEN_TTL_SECONDS,
    },
    features: {
      clientCredentials: { enabled: true },
      // No browser sign-in: every client here is a command line or a service.
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== config.API_AUDIENCE) throw new errors.InvalidTarget();
          return resourceServer;
        },
      },
    },
    findAccount: (_ctx, sub) => {
      const user = users.get(sub);
      return user && { accountId: sub, claims: () => ({ sub, email: user.email }) };
    },
    extraTokenClaims: (_ctx, token) => {
      if (token.kind === 'ClientCredentials') {
        const service = token.clientId ? services.get(token.clientId) : undefined;
        return (
          service && { roles: service.roles, ...(service.email ? { email: service.email } : {}) }
        );
      }
      const user = users.get(token.accountId);
      return user && { email: user.email, roles: user.roles };
    },
  });
  registerPasswordGrant(provider, users, config.API_AUDIENCE, resourceServer);
  return provider;
}

/**
 * The resource-owner password grant, for the `order-flow-cli` client only: OAuth 2.1 drops it
 * because a third-party client must never see a password, but here the client is our own
 * command line and the users are seeded ones with published passwords. It lets `pnpm token`
 * and the test tooling get a real token for a real user without driving a browser.
 */
function registerPasswordGrant(
  provider: Provider,
  users: ReadonlyMap<string, SeededUser>,
  audience: string,
  resourceServer: ConstructorParameters<Provider['ResourceServer']>[1],
): void {
  provider.registerGrantType<{ username?: string; password?: string }>(
    'password',
    async (ctx) => {
      const { username, password } = ctx.oidc.params;
      const user = username === undefined ? undefined : users.get(username);
      if (!user || password === undefined || !samePassword(password, user.password)) {
        throw new errors.InvalidGrant('unknown username or wrong password');
      }
      const { client } = ctx.oidc;
      const grant = new provider.Grant({ clientId: client.clientId, accountId: user.username });
      grant.addResourceScope(audience, API_SCOPE);
      const token = new provider.AccessToken({
        client,
        accountId: user.username,
        grantId: await grant.save(),
        gty: 'password',
        scope: API_SCOPE,
        resourceServer: new provider.ResourceServer(audience, resourceServer),
      });
      ctx.oidc.entity('AccessToken', token);
      const value = await token.save();
      ctx.body = {
        access_token: value,
        expires_in: token.expiration,
        token_type: 'Bearer',
        scope: API_SCOPE,
      };
    },
    ['username', 'password'],
  );
}

function samePassword(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function clientMetadata(client: SeededClient): ClientMetadata {
  switch (client.kind) {
    case 'password':
      return {
        client_id: client.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['password'],
        response_types: [],
        redirect_uris: [],
      };
    case 'service':
      return {
        client_id: client.clientId,
        client_secret: client.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: API_SCOPE,
      };
  }
}

function signingKey(config: IdentityProviderConfig): JWK {
  if (config.SIGNING_KEY_JWK) {
    return { kid: 'configured', ...config.SIGNING_KEY_JWK, alg: 'RS256', use: 'sig' } as JWK;
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' } as JWK;
}
