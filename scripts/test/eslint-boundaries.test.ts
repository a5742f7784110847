import { createRequire } from 'node:module';
import { join } from 'node:path';

import { ESLint, Linter } from 'eslint';
import { parser } from 'typescript-eslint';

// The import boundaries of issue 18 part 6 (eslint.boundaries.js), checked on the repository's real
// config: ESLint computes the config it applies to a path, and the `no-restricted-imports` setting it
// finds there lints a one-line fixture. (Linting fixture text directly needs a file the TypeScript
// project knows; the rule itself needs no types.)

const REPO = join(__dirname, '..', '..');
// Loaded here rather than by ESLint, which imports its config file dynamically (not under jest's VM).
const load = createRequire(__filename);
const eslint = new ESLint({
  cwd: REPO,
  overrideConfigFile: true,
  baseConfig: load(join(REPO, 'eslint.config.js')) as Linter.Config[],
});

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const config = (await eslint.calculateConfigForFile(join(REPO, file))) as {
    rules?: Record<string, Linter.RuleEntry>;
  };
  const rule = config.rules?.['no-restricted-imports'];
  if (rule === undefined) return [];
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(
    code,
    [{ files: ['**/*.ts'], languageOptions: { parser }, rules: { 'no-restricted-imports': rule } }],
    { filename: join(REPO, file) },
  );
  const fatal = messages.find((message) => message.fatal === true);
  if (fatal !== undefined) throw new Error(`fixture did not parse: ${fatal.message}`);
  return messages.map((message) => message.message);
}

describe('import boundaries', () => {
  it.each([
    ["import { IBApi } from '@stoqey/ib';", /IB API client/],
    ["import type { Pool } from 'pg';", /Postgres client/],
    ["import { from } from 'pg-copy-streams';", /Postgres client/],
    ["export { sql } from 'kysely';", /kysely/],
    ["import { connect } from '@nats-io/transport-node';", /NATS client/],
    ["import { jetstream } from '@nats-io/jetstream';", /NATS client/],
    ["import { connect } from 'nats';", /NATS client/],
    ["import { sql } from '@ibstack/db';", /Raw SQL/],
  ])('refuses an I/O client outside adapters: %s', async (code, expected) => {
    const errors = await restrictedImports('services/strategy/src/pipeline-fixture.ts', code);
    expect(errors).toEqual([expect.stringMatching(expected)]);
  });

  it.each([
    ['services/strategy/src/adapters/fixture.ts', "import { Pool } from 'pg';"],
    ['services/execution/src/adapters/fixture.ts', "import { IBApi } from '@stoqey/ib';"],
    ['packages/db/src/fixture.ts', "import { Kysely } from 'kysely';"],
    ['packages/bus/src/fixture.ts', "import { connect } from '@nats-io/transport-node';"],
    ['services/gateway-sim/test/fixture.test.ts', "import { IBApi } from '@stoqey/ib';"],
    ['services/backup/test/fixture.int.test.ts', "import { Client } from 'pg';"],
    ['services/strategy/src/adapters/fixture.ts', "import { sql } from '@ibstack/db';"],
    ['services/strategy/src/fixture.ts', "import { connectDatabase, type Kysely } from '@ibstack/db';"],
  ])('lets %s use: %s', async (file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });

  it.each([
    ['services/strategy/src/fixture.ts', "import { createExecutionService } from '@ibstack/execution';"],
    ['services/strategy/src/fixture.ts', "import { reconcile } from '../../execution/src/domain/reconcile';"],
    [
      'services/strategy/src/domain/fixture.ts',
      "import { x } from '../../../services/ingestor/src/service';",
    ],
    ['services/strategy/src/adapters/fixture.ts', "import { startGatewaySim } from '@ibstack/gateway-sim';"],
    ['services/ingestor/src/fixture.ts', "import type { GatewaySim } from '@ibstack/gateway-sim';"],
    ['services/execution/test/fixture.test.ts', "import { createIngestorService } from '@ibstack/ingestor';"],
    ['services/backtest/src/fixture.ts', "import { createExecutionService } from '@ibstack/execution';"],
    ['packages/stack/src/fixture.ts', "import { strategyEnv } from '@ibstack/strategy';"],
  ])('refuses %s importing another service: %s', async (file, code) => {
    const errors = await restrictedImports(file, code);
    expect(errors).toEqual([expect.stringMatching(/must not import the [a-z-]+ service/)]);
  });

  it.each([
    ['services/strategy/src/fixture.ts', "import { defineStrategy } from '@ibstack/strategy';"],
    ['services/strategy/src/sdk/fixture.ts', "import { strategy } from './strategy';"],
    ['services/ingestor/test/fixture.int.test.ts', "import { startGatewaySim } from '@ibstack/gateway-sim';"],
    ['services/backtest/src/fixture.ts', "import { builtInStrategies } from '@ibstack/strategy';"],
    ['services/backtest/src/fixture.ts', "import { roundToTick } from '@ibstack/gateway-sim';"],
    [
      'services/dashboard-api/test/integration/harness.ts',
      "import { createIngestorService } from '@ibstack/ingestor';",
    ],
  ])('lets %s use: %s (its own service, the sim in tests, or a listed exception)', async (file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });

  it('still refuses I/O clients in a file that has a service exception', async () => {
    const errors = await restrictedImports('services/backtest/src/fixture.ts', "import { Pool } from 'pg';");
    expect(errors).toEqual([expect.stringMatching(/Postgres client/)]);
  });
});
