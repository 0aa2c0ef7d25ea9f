import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { API_AUDIENCE, findRepoRoot, testAuthIssuerUrl } from '@shop/devstack';

const exec = promisify(execFile);
const TOKEN_SCRIPT = join(findRepoRoot(), 'tooling/devstack/dist/cli/token.js');

/** `pnpm token <who>` as the root script runs it, against the run's identity provider. */
function token(...args: string[]) {
  return exec(process.execPath, [TOKEN_SCRIPT, ...args], {
    env: { ...process.env, AUTH_ISSUER_URL: testAuthIssuerUrl() },
  });
}

function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('pnpm token', () => {
  it('prints only a token of the seeded customer, for the APIs, from the identity provider', async () => {
    const { stdout } = await token('customer');
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(claimsOf(stdout.trim())).toMatchObject({
      sub: 'ada',
      email: 'ada@example.com',
      roles: ['customer'],
      iss: testAuthIssuerUrl(),
      aud: API_AUDIENCE,
    });
  });

  it('prints an admin token for `admin`', async () => {
    const { stdout } = await token('admin');
    expect(claimsOf(stdout.trim())).toMatchObject({ sub: 'admin', roles: ['admin'] });
  });

  it('refuses an identity that is not seeded with its usage, exit 2', async () => {
    await expect(token('mallory')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: token'),
    });
  });
});
