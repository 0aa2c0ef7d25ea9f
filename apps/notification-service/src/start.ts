import 'reflect-metadata';
import { startService } from '@shop/service-kit';
import { notificationService } from './service';

startService(notificationService);
