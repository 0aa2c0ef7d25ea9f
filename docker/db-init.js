// One-shot database setup for docker-compose (the `db-init` service), the same call the local
// stack makes: creates the `shop` database, one login role and one schema per service
// (password = role name, development only). Idempotent, so it is safe on every `up`.
// Runs from /app of the order-service image, where `@shop/database` resolves.
'use strict';

const { bootstrapDatabase } = require('@shop/database');

const adminUrl = process.env.ADMIN_DATABASE_URL;
const database = process.env.DATABASE_NAME || 'shop';

if (!adminUrl) {
  console.error(
    'db-init: ADMIN_DATABASE_URL is not set (a superuser URL, e.g. postgres://postgres:postgres@postgres:5432/postgres)',
  );
  process.exit(1);
}

bootstrapDatabase(adminUrl, database).then(
  () => {
    console.log(`db-init: database "${database}" ready (roles, schemas and grants in place)`);
    process.exit(0);
  },
  (error) => {
    console.error('db-init: failed', error);
    process.exit(1);
  },
);
