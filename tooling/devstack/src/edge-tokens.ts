import { createPublicKey } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

export interface EdgeTokenOptions {
  issuer: string;
  audience: string;
  /** The issuer's own private signing key (JWK JSON): the test IdP's. */
  signingJwk: string;
}

/**
 * Authorization headers a service must refuse with 401, each wrong in one way only: all claim
 * the admin role, so only the defect named can be why they are refused.
 */
export async function refusedAuthorizationHeaders(
  options: EdgeTokenOptions,
): Promise<Record<string, string>> {
  const jwk = JSON.parse(options.signingJwk) as JWK;
  const key = await importJWK(jwk, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const claims = { email: 'admin@example.com', roles: ['admin'] };
  const token = (
    change: { iss?: string; aud?: string; exp?: number; typ?: string } = {},
    signWith: Parameters<SignJWT['sign']>[0] = key,
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: change.typ ?? 'at+jwt', kid: jwk.kid })
      .setSubject('admin')
      .setIssuer(change.iss ?? options.issuer)
      .setAudience(change.aud ?? options.audience)
      .setIssuedAt(now - 7_200)
      .setExpirationTime(change.exp ?? now + 3_600)
      .sign(signWith);
  const impostor = (await generateKeyPair('RS256')).privateKey;
  const publicPem = createPublicKey({ key: { ...jwk, d: undefined }, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  });
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url({
    ...claims,
    sub: 'admin',
    iss: options.issuer,
    aud: options.audience,
    exp: now + 3_600,
  })}.`;
  const hmacWithPublicKey = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })
    .setSubject('admin')
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setExpirationTime(now + 3_600)
    .sign(new TextEncoder().encode(String(publicPem)));
  const headers: Record<string, string> = {
    'a token signed by another key under the issuer key id': await token({}, impostor),
    'an expired token': await token({ exp: now - 60 }),
    'a token from another issuer': await token({ iss: 'https://idp.example.net' }),
    'a token for another audience': await token({ aud: 'urn:another:api' }),
    'an ID token rather than an access token (typ JWT)': await token({ typ: 'JWT' }),
    'an unsigned token (alg none)': unsigned,
    'a token signed with HS256 keyed by the issuer public key': hmacWithPublicKey,
  };
  return Object.fromEntries(
    Object.entries(headers).map(([what, value]) => [what, `Bearer ${value}`]),
  );
}
