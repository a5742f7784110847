// npm run bench [-- <suite name filter>]: runs each benchmark suite and prints one line per figure beside
// its baseline measured in the same run. Results also go to bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { type Figure, formatFigure, type Suite } from './lib/report';
import { alertsSuite } from './suites/alerts';
import { backtestSuite } from './suites/backtest';
import { busSuite } from './suites/bus';
import { dashboardApiSuite } from './suites/dashboard-api';
import { executionSuite } from './suites/execution';
import { failoverSuite } from './suites/failover';
import { gatewaySimSuite } from './suites/gateway-sim';
import { imagesSuite } from './suites/images';
import { ingestorSuite } from './suites/ingestor';
import { restartGapSuite } from './suites/restart-gap';
import { strategySuite } from './suites/strategy';
import { tickToOrderSuite } from './suites/tick-to-order';

const suites: Suite[] = [
  busSuite,
  strategySuite,
  backtestSuite,
  gatewaySimSuite,
  ingestorSuite,
  executionSuite,
  tickToOrderSuite,
  restartGapSuite,
  dashboardApiSuite,
  imagesSuite,
  alertsSuite,
  failoverSuite,
];

async function main(): Promise<void> {
  const filter = process.argv[2];
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  const command = `npm run bench${filter ? ` -- ${filter}` : ''}${process.env.BENCH_SCALE ? ` (BENCH_SCALE=${scale})` : ''}`;
  process.stdout.write(`# ${command}\n# node ${process.version}, ${new Date().toISOString()}\n`);
  const results: Array<{ suite: string; figures: Figure[] }> = [];
  for (const suite of suites.filter((s) => !filter || s.name.includes(filter))) {
    process.stdout.write(`\n## ${suite.name}: ${suite.description}\n`);
    const figures = await suite.run({ scale, log: (message) => process.stderr.write(`  ${message}\n`) });
    for (const figure of figures) process.stdout.write(`${formatFigure(figure)}\n`);
    results.push({ suite: suite.name, figures });
  }
  const directory = join(__dirname, 'results');
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    join(directory, 'latest.json'),
    JSON.stringify({ command, at: new Date().toISOString(), results }, null, 2),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
