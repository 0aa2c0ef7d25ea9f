import { z } from 'zod';

export interface ClientCredentialsOptions {
  /** The issuer's token endpoint, e.g. <issuer>/token. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
});

/** A token is renewed this long before it expires, so none is sent about to lapse. */
const RENEW_BEFORE_MS = 60_000;

/**
 * An access token for a process calling the APIs as itself (OAuth 2 client credentials), fetched
 * when first needed and renewed shortly before it expires; concurrent callers share one request.
 */
export class ClientCredentialsToken {
  private current: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly options: ClientCredentialsOptions) {}

  /** `Authorization: Bearer …` for the next request. */
  async header(): Promise<{ authorization: string }> {
    return { authorization: `Bearer ${await this.token()}` };
  }

  async token(): Promise<string> {
    if (this.current && Date.now() < this.current.renewAt) return this.current.token;
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const { tokenUrl, clientId, clientSecret } = this.options;
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = tokenResponseSchema.safeParse(await response.json().catch(() => null));
    if (!response.ok || !answer.success) {
      throw new Error(`the identity provider refused a token for ${clientId}: ${response.status}`);
    }
    const { access_token: token, expires_in: expiresIn } = answer.data;
    this.current = { token, renewAt: Date.now() + Math.max(0, expiresIn * 1000 - RENEW_BEFORE_MS) };
    return token;
  }
}
