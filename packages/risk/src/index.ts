export * from './account';
export * from './check';
export * from './errors';
export * from './fx';
export * from './limits';
export * from './position';
