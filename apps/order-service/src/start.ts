import 'reflect-metadata';
import { startService } from '@shop/service-kit';
import { orderService } from './service';

startService(orderService);
