export * from './tracing-config';
export * from './tracing';
