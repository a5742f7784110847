export * from './config';
export * from './service';
export * from './metrics';
export * from './domain/session-state';
export * from './domain/reset-windows';
export * from './domain/weekly-reauth';
export * from './domain/log-lines';
export { probeFailure } from './adapters/readiness-probe';
export { LogTail } from './adapters/log-tail';
