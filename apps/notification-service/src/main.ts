import { startTracing } from '@shop/telemetry';

// Tracing starts before the service is loaded: its instrumentations patch http, pg and Nest as
// they are required.
startTracing('notification-service');
void import('./start.js');
