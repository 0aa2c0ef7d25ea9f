import { serviceDatabase, serviceDatabaseUrl } from './services';

describe('service databases', () => {
  it('gives each service its own schema and role', () => {
    expect(serviceDatabase('order-service')).toEqual({
      service: 'order-service',
      role: 'order_service',
      schema: 'orders',
    });
    expect(serviceDatabase('inventory-service').schema).toBe('inventory');
    expect(serviceDatabase('notification-service').schema).toBe('notifications');
  });

  it('builds the service URL from the admin URL with the service role and the chosen database', () => {
    expect(
      serviceDatabaseUrl(
        'postgres://postgres:secret@db:5432/postgres',
        'inventory-service',
        'shop',
      ),
    ).toBe('postgres://inventory_service:inventory_service@db:5432/shop');
  });
});
