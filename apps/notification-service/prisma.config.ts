import { defineConfig } from 'prisma/config';

// `prisma generate` needs no database; `prisma migrate deploy` (where Prisma's engine can be
// downloaded, e.g. in Docker builds) reads DATABASE_URL. Offline, the service applies migrations itself.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgres://localhost:5432/shop' },
});
