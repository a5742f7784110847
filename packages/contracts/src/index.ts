export * from './primitives';
export * from './instrument';
export * from './market-data';
export * from './orders';
export * from './system';
export * from './subjects';
export * from './ids';
export * from './time';
