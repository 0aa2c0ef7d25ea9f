export * from './services';
export * from './bootstrap';
export * from './migrate';
export * from './notify-loop';
