export * from './paths';
export * from './tools';
export * from './rules';
export * from './alertmanager';
