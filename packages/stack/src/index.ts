export * from './config';
export * from './runner';
export * from './supervisor';
export * from './log-format';
export * from './notifier-setup';
