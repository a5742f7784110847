/**
 * `health-gate --since <time> [--timeout 180] --service name=url …`: scripts/deploy.sh runs it inside the
 * compose network after `docker compose up` (`docker compose run --rm --no-deps migrate node
 * packages/stack/src/cli/health-gate.js …`). Exit 0: every service ready and a clean reconciliation since
 * the deploy began; 1: not within the timeout, or a reconciliation mismatch; 78: bad arguments or
 * environment. Reads DATABASE_URL (or DATABASE_URL_FILE).
 */
import { commonEnv, loadConfigOrExit } from '@ibstack/config';
import { connectDatabase } from '@ibstack/db';
import { Command, InvalidArgumentError } from 'commander';

import { type GateTarget, runHealthGate } from '../health-gate';

const configError = (message: string): never => {
  process.stderr.write(`health-gate: ${message}\n`);
  process.exit(78);
};

const program = new Command('health-gate')
  .description('wait until every service is ready and execution has reconciled cleanly')
  .requiredOption('--since <time>', 'when the deploy began (ISO 8601)', (value) => {
    const at = new Date(value);
    if (Number.isNaN(at.getTime()))
      throw new InvalidArgumentError('must be a time like 2026-12-03T15:00:00Z');
    return at;
  })
  .option(
    '--timeout <seconds>',
    'give up after this long',
    (value) => {
      const seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds <= 0)
        throw new InvalidArgumentError('must be a number of seconds');
      return seconds;
    },
    180,
  )
  .option(
    '--service <name=url>',
    'a service whose /readyz must answer 200 (repeat)',
    (value, previous: GateTarget[]) => {
      const match = /^([a-z][a-z0-9-]*)=(https?:\/\/\S+)$/.exec(value);
      if (!match) throw new InvalidArgumentError(`"${value}" is not name=http://host:port`);
      return [...previous, { name: match[1]!, url: match[2]! }];
    },
    [] as GateTarget[],
  )
  .exitOverride((error) => {
    if (error.exitCode === 0) process.exit(0);
    configError(error.message.replace(/^error: /, ''));
  })
  .configureOutput({ writeErr: () => undefined });

async function main(): Promise<void> {
  program.parse();
  const options = program.opts<{ since: Date; timeout: number; service: GateTarget[] }>();
  if (options.service.length === 0) configError('name at least one --service');
  const env = loadConfigOrExit('health-gate', commonEnv.pick({ DATABASE_URL: true }));
  const database = await connectDatabase(env.DATABASE_URL, {
    maxConnections: 1,
    applicationName: 'health-gate',
  });
  try {
    const result = await runHealthGate(database.db, {
      targets: options.service,
      since: options.since,
      timeoutMs: options.timeout * 1000,
      progress: (verdict, elapsedMs) =>
        process.stdout.write(
          `health gate: waiting (${Math.round(elapsedMs / 1000)} s): ${verdict.reasons.join('; ')}\n`,
        ),
    });
    const seconds = Math.round(result.elapsedMs / 1000);
    if (result.outcome === 'passed') {
      process.stdout.write(
        `health gate passed in ${seconds} s: ${options.service.map((target) => target.name).join(', ')} ready; reconciled clean\n`,
      );
    } else {
      process.stdout.write(`health gate failed after ${seconds} s: ${result.reasons.join('; ')}\n`);
      process.exitCode = 1;
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`health-gate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
