import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65_535);

export const identityProviderConfigSchema = z
  .object({
    PORT: port.default(4000),
    /** What tokens carry as `iss`; defaults to http://localhost:<PORT>. */
    ISSUER_URL: z.url().optional(),
    /** The resource indicator (and `aud`) of the order-flow APIs. */
    API_AUDIENCE: z.string().min(1).default('urn:order-flow:api'),
    /** A private RS256 signing key as JWK JSON; without one, a fresh key is made at every start. */
    SIGNING_KEY_JWK: z
      .string()
      .transform((text, context) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          context.addIssue({ code: 'custom', message: 'expected a JWK as JSON' });
          return z.NEVER;
        }
      })
      .pipe(
        z.looseObject({
          kty: z.literal('RSA', { message: 'expected an RSA key' }),
          d: z.string({ message: 'expected a private key (with d)' }),
          kid: z.string().optional(),
        }),
      )
      .optional(),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3_600),
  })
  .transform((config) => ({
    ...config,
    ISSUER_URL: (config.ISSUER_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, ''),
  }));

export type IdentityProviderConfig = z.output<typeof identityProviderConfigSchema>;

/** Validated once at start; nothing else reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IdentityProviderConfig {
  const result = identityProviderConfigSchema.safeParse(env);
  if (!result.success) throw new Error(`invalid configuration: ${z.prettifyError(result.error)}`);
  return result.data;
}
