import { derivedRolePasswords, serviceDatabase, serviceDatabaseUrl } from './services';

const ADMIN_URL = 'postgres://postgres:secret@db:5432/postgres';

describe('service databases', () => {
  it('gives each service its own schema, a role to run as and a role that owns the schema', () => {
    expect(serviceDatabase('order-service')).toEqual({
      service: 'order-service',
      role: 'order_service',
      ownerRole: 'order_owner',
      schema: 'orders',
    });
    expect(serviceDatabase('inventory-service').schema).toBe('inventory');
    expect(serviceDatabase('notification-service').schema).toBe('notifications');
  });

  it('builds the service URL from the admin URL with the chosen role, its password and database', () => {
    const passwords = derivedRolePasswords(ADMIN_URL);
    const runtime = new URL(serviceDatabaseUrl(ADMIN_URL, 'inventory-service', 'shop'));
    expect(runtime.username).toBe('inventory_service');
    expect(runtime.password).toBe(passwords.inventory_service);
    expect(`${runtime.host}${runtime.pathname}`).toBe('db:5432/shop');
    const owner = new URL(serviceDatabaseUrl(ADMIN_URL, 'inventory-service', 'shop', 'owner'));
    expect(owner.username).toBe('inventory_owner');
    expect(owner.password).toBe(passwords.inventory_owner);
  });

  it('derives a distinct password per role and per server, never the role name', () => {
    const passwords = derivedRolePasswords(ADMIN_URL);
    const values = Object.values(passwords);
    expect(Object.keys(passwords)).toHaveLength(6);
    expect(new Set(values).size).toBe(6);
    for (const [role, password] of Object.entries(passwords)) {
      expect(password).not.toContain(role);
      expect(password.length).toBeGreaterThanOrEqual(40);
    }
    expect(derivedRolePasswords(ADMIN_URL)).toEqual(passwords);
    expect(
      derivedRolePasswords('postgres://postgres:other@db:5432/postgres').order_service,
    ).not.toBe(passwords.order_service);
  });
});
