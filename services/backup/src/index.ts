export * from './backup-set';
export * from './backup-store';
export * from './config';
export * from './errors';
export * from './restore';
export * from './service';
export * from './take-backup';
