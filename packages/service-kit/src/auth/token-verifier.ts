import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ROLES, type Caller, type Role } from './caller';

/** The token cannot be trusted (bad signature, expired, another issuer or audience...). */
export class InvalidTokenError extends Error {}

/** The issuer's keys could not be fetched: not the caller's fault. */
export class IdentityProviderUnavailableError extends Error {}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Where the issuer publishes its signing keys (JWKS). */
  jwksUrl: string;
}

/** Asymmetric algorithms only: a shared-secret or `none` token is refused before any key is looked at. */
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];

const claimsSchema = z.object({
  sub: z.string().min(1),
  email: z.email().optional(),
  roles: z.array(z.string()).default([]),
});

/** Checks an RFC 9068 JWT access token against the issuer's published keys. */
export class TokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    private readonly options: TokenVerifierOptions,
    keys?: JWTVerifyGetKey,
  ) {
    this.keys = keys ?? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 5_000 });
  }

  async verify(token: string): Promise<Caller> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: ALGORITHMS,
        // An ID token or any other JWT from the same issuer is not an access token.
        typ: 'at+jwt',
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw toVerificationError(error);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success)
      throw new InvalidTokenError("the token's sub, email or roles claim is malformed");
    const known = new Set<string>(ROLES);
    return {
      subject: claims.data.sub,
      email: claims.data.email,
      roles: new Set(claims.data.roles.filter((role): role is Role => known.has(role))),
    };
  }
}

function toVerificationError(error: unknown): Error {
  if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) {
    return new IdentityProviderUnavailableError(
      `the identity provider's keys could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (error instanceof errors.JWTExpired) return new InvalidTokenError('the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new InvalidTokenError(`the token's ${error.claim} claim is not accepted here`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new InvalidTokenError('the token is not signed with an accepted algorithm');
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey
  ) {
    return new InvalidTokenError('the token is not signed by the identity provider');
  }
  return new InvalidTokenError('the token is not a well-formed signed JWT');
}
