import type { z } from 'zod';
import { baseConfigSchema } from '@shop/service-kit';

export const inventoryConfigSchema = baseConfigSchema({
  serviceName: 'inventory-service',
  port: 3001,
});

export type InventoryConfig = z.output<typeof inventoryConfigSchema>;
