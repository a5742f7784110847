export * from './errors';
export * from './load';
export * from './common';
export * from './trading-mode';
