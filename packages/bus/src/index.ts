export * from './bus';
export * from './consumer';
export * from './errors';
export * from './kv';
export * from './metrics';
export * from './namespace';
export * from './check';
export * from './session-commands';
