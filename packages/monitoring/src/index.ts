export * from './paths';
export * from './tools';
export * from './rules';
