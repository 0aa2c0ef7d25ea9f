/**
 * One Postgres schema and one login role per service: a role owns its schema and has no
 * privilege on the others', so a service cannot read or write another service's tables.
 */
export interface ServiceDatabase {
  service: ServiceName;
  role: string;
  schema: string;
}

export type ServiceName = 'order-service' | 'inventory-service' | 'notification-service';

export const SERVICE_DATABASES: readonly ServiceDatabase[] = [
  { service: 'order-service', role: 'order_service', schema: 'orders' },
  { service: 'inventory-service', role: 'inventory_service', schema: 'inventory' },
  { service: 'notification-service', role: 'notification_service', schema: 'notifications' },
];

export function serviceDatabase(service: ServiceName): ServiceDatabase {
  const found = SERVICE_DATABASES.find((candidate) => candidate.service === service);
  if (!found) throw new Error(`no database settings for ${service}`);
  return found;
}

/**
 * The connection URL a service uses: same host and database as the admin URL, the service's
 * own role. Development passwords equal the role name; production sets DATABASE_URL itself.
 */
export function serviceDatabaseUrl(
  adminUrl: string,
  service: ServiceName,
  database?: string,
): string {
  const { role } = serviceDatabase(service);
  const url = new URL(adminUrl);
  url.username = role;
  url.password = role;
  if (database) url.pathname = `/${database}`;
  return url.toString();
}
