export * from './config/config';
export * from './tokens';
export * from './http/zod-validation.pipe';
export * from './http/http-exception.filter';
export * from './health/health.controller';
export * from './platform.module';
export * from './logger.adapter';
export * from './run-service';
