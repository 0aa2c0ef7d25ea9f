import { readFileSync } from 'node:fs';
import { z } from 'zod';

const role = z.enum(['customer', 'admin', 'operator']);

const userSchema = z.strictObject({
  username: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/),
  password: z.string().min(8),
  email: z.email(),
  roles: z.array(role).min(1),
});

const clientSchema = z.discriminatedUnion('kind', [
  z.strictObject({ clientId: z.string(), kind: z.literal('password'), $comment: z.string() }),
  z.strictObject({
    clientId: z.string(),
    kind: z.literal('service'),
    secret: z.string().min(16),
    roles: z.array(role).min(1),
    email: z.email().optional(),
    $comment: z.string(),
  }),
]);

const seedSchema = z.object({ users: z.array(userSchema), clients: z.array(clientSchema) });

export type SeededUser = z.output<typeof userSchema>;
export type SeededClient = z.output<typeof clientSchema>;
export type Seed = z.output<typeof seedSchema>;

/** The identities in seed.json (beside package.json), checked before the provider starts. */
export function loadSeed(): Seed {
  const file = new URL('../seed.json', import.meta.url);
  return seedSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}
