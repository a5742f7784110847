export * from './schema';
export * from './errors';
export * from './connection';
export * from './migrate';
export { migrationProvider } from './migrations';
export { sql, type Kysely, type Transaction } from 'kysely';
export * from './check';
export * from './audit';
export * from './account-snapshots';
