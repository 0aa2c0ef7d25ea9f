import type { z } from 'zod';
import { baseConfigSchema } from '@shop/service-kit';

export const orderConfigSchema = baseConfigSchema({ serviceName: 'order-service', port: 3000 });

export type OrderConfig = z.output<typeof orderConfigSchema>;
