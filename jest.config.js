// One jest run covers every workspace; each test file isolates itself (own database, own NATS namespace)
// so files run in parallel safely. ts-jest only transpiles (isolatedModules); `npm run typecheck` checks
// types once for the whole tree.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/infra', '<rootDir>/scripts'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/packages/test-kit/src/global-setup.ts',
  testTimeout: 30_000,
  maxWorkers: '50%',
};
