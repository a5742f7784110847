// Import boundaries (issue 18 part 6), enforced so they are not only followed:
//
// - The I/O clients (`@stoqey/ib`, `pg`, `kysely`, the NATS client) are imported only in `packages/`
//   (their home: packages/ib, packages/db, packages/bus) and in a service's `src/adapters/`; so is
//   `sql` from `@ibstack/db` (raw SQL belongs in a repository). Tests and
//   benchmarks may import them too: they check the real I/O from outside (an IB client against the
//   simulated gateway, raw SQL against the database).
// - A service never imports another service (`@ibstack/<service>` or a relative path into it): services
//   meet on NATS subjects and Postgres tables defined in `packages/`. Packages never import services.
//   Tests may import the simulated gateway: it is the IB double every integration test drives.
//
// Anything beyond that is listed in EXCEPTIONS with its reason. `scripts/test/eslint-boundaries.test.ts`
// proves the rule fires on the real config.
//
// One `no-restricted-imports` setting replaces the one before it in flat config (rule options do not
// merge), so every block below carries the whole list that applies to its files.
const fs = require('node:fs');
const path = require('node:path');

/** The workspaces under services/ (folders with a package.json), named by folder. */
const SERVICES = fs
  .readdirSync(path.join(__dirname, 'services'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .filter((entry) => fs.existsSync(path.join(__dirname, 'services', entry.name, 'package.json')))
  .map((entry) => entry.name)
  .sort();

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const IO_CLIENTS = [
  {
    regex: '^@stoqey/ib(/.*)?$',
    message: 'The IB API client is imported only in packages/ib and in src/adapters/ (issue 18 part 6).',
  },
  {
    regex: '^(pg|pg-copy-streams)(/.*)?$',
    message: 'The Postgres client is imported only in packages/db and in src/adapters/ (issue 18 part 6).',
  },
  {
    regex: '^kysely(/.*)?$',
    message:
      'kysely is imported only in packages/db and in src/adapters/; use @ibstack/db (issue 18 part 6).',
  },
  {
    regex: '^@ibstack/db$',
    importNames: ['sql'],
    message:
      'Raw SQL (`sql`) is written only in a repository under src/adapters/ (or in packages/): services query Postgres through their repositories (issue 18 part 5).',
  },
  {
    regex: '^(nats|@nats-io/.+)(/.*)?$',
    message:
      'The NATS client is imported only in packages/bus and in src/adapters/; use @ibstack/bus (issue 18 part 6).',
  },
];

/** Patterns that stop an import of `service`, by package name or by a relative path into its folder. */
function servicePatterns(service, importer) {
  const message = `${importer} must not import the ${service} service: services meet on NATS subjects and Postgres tables defined in packages/ (issue 18 part 6).`;
  return [
    { regex: `^@ibstack/${escape(service)}(/.*)?$`, message },
    { regex: `^(\\.\\./)+(services/)?${escape(service)}(/.*)?$`, message },
  ];
}

/**
 * Files allowed more than their role gives them. `service` and `role` say which rule they start from;
 * `services` the other services they may import beyond it.
 */
const EXCEPTIONS = [
  {
    files: ['services/backtest/src/**', 'services/backtest/test/**'],
    service: 'backtest',
    roles: ['src', 'test'],
    services: ['strategy', 'gateway-sim'],
    reason:
      "the backtest runs strategy's own pipeline and the simulated gateway's matching engine in process: that parity is its purpose (issue 18 parts 2-3)",
  },
  {
    files: ['services/dashboard-api/test/integration/harness.ts'],
    service: 'dashboard-api',
    roles: ['test'],
    services: ['execution', 'ingestor'],
    reason:
      'the API integration harness boots ingestor and execution against the simulated gateway, so the rows and events it serves are real',
  },
];

const TEST_MAY_IMPORT = ['gateway-sim'];

function options(patterns) {
  return ['error', { patterns }];
}

/** The no-restricted-imports patterns for one role of one service, before exceptions. */
function servicePatternList(service, role, extraServices = []) {
  const allowed = new Set([service, ...extraServices, ...(role === 'test' ? TEST_MAY_IMPORT : [])]);
  const others = SERVICES.filter((other) => !allowed.has(other)).flatMap((other) =>
    servicePatterns(other, `services/${service}`),
  );
  return role === 'src' ? [...IO_CLIENTS, ...others] : others;
}

const SOURCE = '**/*.{ts,tsx,mts,cts}';

const boundaries = [
  // Everything in a service that is neither an adapter nor a test (src/, web/, config/).
  ...SERVICES.map((service) => ({
    files: [`services/${service}/${SOURCE}`],
    rules: { 'no-restricted-imports': options(servicePatternList(service, 'src')) },
  })),
  ...SERVICES.map((service) => ({
    files: [`services/${service}/src/adapters/${SOURCE}`],
    rules: { 'no-restricted-imports': options(servicePatternList(service, 'adapter')) },
  })),
  ...SERVICES.map((service) => ({
    files: [`services/${service}/test/${SOURCE}`],
    rules: { 'no-restricted-imports': options(servicePatternList(service, 'test')) },
  })),
  {
    files: [`packages/*/src/${SOURCE}`],
    rules: {
      'no-restricted-imports': options(SERVICES.flatMap((service) => servicePatterns(service, 'A package'))),
    },
  },
  // Exceptions, one block per role they cover so each keeps the rest of its role's list.
  ...EXCEPTIONS.flatMap((exception) =>
    exception.roles.map((role) => ({
      files: exception.files.filter((glob) => glob.startsWith(`services/${exception.service}/${role}/`)),
      rules: {
        'no-restricted-imports': options(servicePatternList(exception.service, role, exception.services)),
      },
    })),
  ).filter((block) => block.files.length > 0),
];

module.exports = { boundaries, SERVICES, EXCEPTIONS, IO_CLIENTS };
