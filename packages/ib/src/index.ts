export * from './error-codes';
export * from './account-mode';
export * from './metrics';
export * from './connection';
export * from './healthcheck';
export * from './contract';
export * from './time';
