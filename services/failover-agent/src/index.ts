export * from './config';
export * from './domain/decide';
export * from './adapters/wireguard';
export { createFailoverAgent, type FailoverAgent, type FailoverStatus, SERVICE } from './service';
