import { createHmac } from 'node:crypto';

/**
 * One Postgres schema and two login roles per service. The owner role owns the schema and its
 * tables and runs the migrations; the running service logs in as `role`, which may read and
 * write the tables but not alter or drop them (nor the constraints that keep stock honest).
 * Neither role has any privilege on another service's schema.
 */
export interface ServiceDatabase {
  service: ServiceName;
  /** The role the running service uses. */
  role: string;
  /** The role that owns the schema and applies migrations. */
  ownerRole: string;
  schema: string;
}

export type ServiceName = 'order-service' | 'inventory-service' | 'notification-service';

export const SERVICE_DATABASES: readonly ServiceDatabase[] = [
  { service: 'order-service', role: 'order_service', ownerRole: 'order_owner', schema: 'orders' },
  {
    service: 'inventory-service',
    role: 'inventory_service',
    ownerRole: 'inventory_owner',
    schema: 'inventory',
  },
  {
    service: 'notification-service',
    role: 'notification_service',
    ownerRole: 'notification_owner',
    schema: 'notifications',
  },
];

export function serviceDatabase(service: ServiceName): ServiceDatabase {
  const found = SERVICE_DATABASES.find((candidate) => candidate.service === service);
  if (!found) throw new Error(`no database settings for ${service}`);
  return found;
}

/** Every service role's password, by role name. */
export type RolePasswords = Readonly<Record<string, string>>;

/**
 * Passwords for every service role, derived from the administrator's URL (which holds a
 * superuser's password: whoever has it has every role anyway). Local stacks and tests use them,
 * so parallel processes bootstrapping one server agree without passing secrets around;
 * deployments set their own (docker-compose reads them from .env).
 */
export function derivedRolePasswords(adminUrl: string): RolePasswords {
  const passwords: Record<string, string> = {};
  for (const { role, ownerRole } of SERVICE_DATABASES) {
    for (const name of [role, ownerRole]) {
      passwords[name] = createHmac('sha256', adminUrl).update(name).digest('base64url');
    }
  }
  return passwords;
}

/**
 * The connection URL of a service's role (`runtime`) or its schema owner (`owner`, for
 * migrations): same host and database as the admin URL, the role's derived password.
 */
export function serviceDatabaseUrl(
  adminUrl: string,
  service: ServiceName,
  database?: string,
  as: 'runtime' | 'owner' = 'runtime',
): string {
  const { role, ownerRole } = serviceDatabase(service);
  const name = as === 'owner' ? ownerRole : role;
  const url = new URL(adminUrl);
  url.username = name;
  url.password = derivedRolePasswords(adminUrl)[name] ?? '';
  if (database) url.pathname = `/${database}`;
  return url.toString();
}

/** A service's two database variables: its own role, and its schema owner for migrations. */
export function serviceDatabaseEnv(
  adminUrl: string,
  service: ServiceName,
  database?: string,
): { DATABASE_URL: string; MIGRATION_DATABASE_URL: string } {
  return {
    DATABASE_URL: serviceDatabaseUrl(adminUrl, service, database),
    MIGRATION_DATABASE_URL: serviceDatabaseUrl(adminUrl, service, database, 'owner'),
  };
}
