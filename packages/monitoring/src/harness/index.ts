export * from './daemon';
export * from './prometheus';
export * from './alertmanager';
export * from './stack';
