import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import {
  IdentityProviderUnavailableError,
  InvalidTokenError,
  TokenVerifier,
} from './token-verifier';

const ISSUER = 'http://idp.test';
const AUDIENCE = 'urn:order-flow:api';

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256' } };
}

describe('TokenVerifier', () => {
  let issuerKey: Awaited<ReturnType<typeof keyPair>>;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    issuerKey = await keyPair('issuer-key');
    verifier = new TokenVerifier(
      { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'http://unused.test/jwks' },
      createLocalJWKSet({ keys: [issuerKey.jwk] }),
    );
  });

  function sign(
    claims: JWTPayload = {},
    header: { typ?: string; kid?: string } = {},
    key = issuerKey.privateKey,
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      sub: 'ada',
      iss: ISSUER,
      aud: AUDIENCE,
      iat: now,
      exp: now + 300,
      email: 'ada@example.com',
      roles: ['customer', 'unknown-role'],
      ...claims,
    })
      .setProtectedHeader({
        alg: 'RS256',
        typ: header.typ ?? 'at+jwt',
        kid: header.kid ?? 'issuer-key',
      })
      .sign(key);
  }

  it('turns a valid access token into its caller, keeping only the roles it knows', async () => {
    const caller = await verifier.verify(await sign());
    expect(caller).toEqual({
      subject: 'ada',
      email: 'ada@example.com',
      roles: new Set(['customer']),
    });
  });

  it.each([
    ['an expired token', { exp: Math.floor(Date.now() / 1000) - 60 }, {}, /expired/],
    ['another issuer', { iss: 'http://evil.test' }, {}, /iss/],
    ['another audience', { aud: 'urn:other:api' }, {}, /aud/],
    ['an ID token (typ JWT)', {}, { typ: 'JWT' }, /typ/],
    ['a malformed roles claim', { roles: 'admin' }, {}, /claim is malformed/],
  ])('refuses %s', async (_what, claims, header, message) => {
    const token = await sign(claims, header);
    await expect(verifier.verify(token)).rejects.toThrow(InvalidTokenError);
    await expect(verifier.verify(token)).rejects.toThrow(message);
  });

  it('refuses a token signed by another key under the issuer key id', async () => {
    const impostor = await keyPair('issuer-key');
    const token = await sign({}, {}, impostor.privateKey);
    await expect(verifier.verify(token)).rejects.toThrow('not signed by the identity provider');
  });

  it('refuses an unsigned token (alg none) and one that is not a JWT', async () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ sub: 'ada', iss: ISSUER, aud: AUDIENCE })}.`;
    await expect(verifier.verify(unsigned)).rejects.toThrow(InvalidTokenError);
    await expect(verifier.verify('not-a-jwt')).rejects.toThrow(InvalidTokenError);
  });

  it('says the identity provider is unavailable, not that the token is bad, when its keys cannot be read', async () => {
    const unreachable = new TokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      // Port 9 (discard) is closed here: the fetch of the keys fails at once.
      jwksUrl: 'http://127.0.0.1:9/jwks',
    });
    await expect(unreachable.verify(await sign())).rejects.toThrow(
      IdentityProviderUnavailableError,
    );
  });
});
