// One-shot database setup for docker-compose (the `db-init` service), the same call the local
// stack makes: creates the `shop` database and, per service, a schema, the role that owns it
// (migrations) and the role the service runs as (reads and writes only). Passwords come from
// the environment (compose takes them from .env). Idempotent, so it is safe on every `up`.
// Runs from /app of the order-service image, where `@shop/database` resolves.
'use strict';

const { bootstrapDatabase, SERVICE_DATABASES } = require('@shop/database');

const adminUrl = process.env.ADMIN_DATABASE_URL;
const database = process.env.DATABASE_NAME || 'shop';
const roles = SERVICE_DATABASES.flatMap(({ role, ownerRole }) => [role, ownerRole]);
const variableOf = (role) => `DB_PASSWORD_${role.toUpperCase()}`;

const missing = [
  ...(adminUrl ? [] : ['ADMIN_DATABASE_URL (a superuser URL)']),
  ...roles.map(variableOf).filter((name) => !process.env[name]),
];
if (missing.length > 0) {
  console.error(`db-init: not set: ${missing.join(', ')}`);
  process.exit(1);
}

const passwords = Object.fromEntries(roles.map((role) => [role, process.env[variableOf(role)]]));

bootstrapDatabase(adminUrl, database, passwords).then(
  () => {
    console.log(`db-init: database "${database}" ready (roles, schemas and grants in place)`);
    process.exit(0);
  },
  (error) => {
    console.error('db-init: failed', error.message);
    process.exit(1);
  },
);
