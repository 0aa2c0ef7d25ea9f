import 'reflect-metadata';
import { startService } from '@shop/service-kit';
import { inventoryService } from './service';

startService(inventoryService);
