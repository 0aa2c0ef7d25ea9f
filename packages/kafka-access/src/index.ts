export * from './access-table';
export * from './passwords';
export * from './provision';
