// `npm run status` and its siblings: `npm run status -- halt "reason"`, `resume "reason"`, `reconcile`.
import { userInfo } from 'node:os';

import { Bus } from '@ibstack/bus';
import { ConfigError, loadConfig } from '@ibstack/config';
import { connectDatabase, type DatabaseHandle } from '@ibstack/db';
import { createLogger, createRegistry } from '@ibstack/observability';
import { gatherStatus, requestReconciliation, setTradingState } from '@ibstack/operator';
import { Command } from 'commander';

import { stackEnv } from '../config';
import { renderStatus } from '../render';

function config() {
  try {
    return loadConfig('ibstack', stackEnv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

interface Connections {
  bus: Bus | null;
  database: DatabaseHandle | null;
  /** Why a connection is missing, for the status screen. */
  problems: string[];
  close(): Promise<void>;
}

async function connect(required: boolean): Promise<Connections> {
  const env = config();
  const problems: string[] = [];
  const optional = <T>(promise: Promise<T>): Promise<T | null> =>
    promise.catch((error: unknown) => {
      if (required) throw error;
      problems.push((error as Error).message);
      return null;
    });
  const [bus, database] = await Promise.all([
    optional(
      Bus.connect({
        url: env.NATS_URL,
        replicas: env.NATS_REPLICAS,
        name: 'ibstack-cli',
        namespace: env.BUS_NAMESPACE,
        logger: createLogger({ service: 'ibstack-cli', level: 'silent' }),
        registry: createRegistry('cli', { defaultMetrics: false }),
        connectTimeoutMs: 2_000,
      }),
    ),
    optional(connectDatabase(env.DATABASE_URL, { maxConnections: 2 })),
  ]);
  return {
    bus,
    database,
    problems,
    close: async () => {
      await bus?.close();
      await database?.close();
    },
  };
}

const operator = () => process.env.IBSTACK_OPERATOR || userInfo().username;

const program = new Command('ibstack').description('Status and operator commands of a running ibstack');

program
  .command('status', { isDefault: true })
  .description(
    'one screen: services, gateway, trading state, lease, prices, orders, positions, P&L, reconciliation',
  )
  .option('--json', 'print the status as JSON')
  .action(async (options: { json?: boolean }) => {
    const env = config();
    const handles = await connect(false);
    try {
      const status = await gatherStatus({
        db: handles.database?.db ?? null,
        bus: handles.bus,
        httpPortBase: env.STACK_HTTP_PORT_BASE,
        ...(env.STATUS_SERVICES ? { services: env.STATUS_SERVICES } : {}),
      });
      status.problems.unshift(...handles.problems);
      process.stdout.write(`${options.json ? JSON.stringify(status, null, 2) : renderStatus(status)}\n`);
    } finally {
      await handles.close();
    }
  });

for (const [name, state, verb] of [
  ['halt', 'HALTED', 'stops all trading'],
  ['resume', 'RUNNING', 'lets trading resume'],
  ['reduce', 'REDUCING', 'allows only orders that shrink positions'],
] as const) {
  program
    .command(`${name} <reason>`)
    .description(`${verb} (audited)`)
    .action(async (reason: string) => {
      // NATS carries the state; Postgres only the audit row, so a halt works while Postgres is down.
      const handles = await connect(false);
      try {
        if (!handles.bus)
          throw new Error(`cannot set the trading state without NATS: ${handles.problems.join('; ')}`);
        const { value, auditProblems } = await setTradingState(
          { bus: handles.bus, db: handles.database?.db ?? null },
          state,
          reason,
          operator(),
        );
        process.stdout.write(`trading is ${value.state}: ${value.reason} (by ${value.by})\n`);
        if (auditProblems.length > 0) {
          process.stderr.write(
            `WARNING: the change is made but its audit entry is incomplete:\n${auditProblems.map((p) => `  - ${p}`).join('\n')}\n`,
          );
          process.exitCode = 2;
        }
      } finally {
        await handles.close();
      }
    });
}

program
  .command('reconcile')
  .description('ask execution to reconcile with the broker now (audited when it runs)')
  .action(async () => {
    const handles = await connect(true);
    try {
      await requestReconciliation(handles.bus!, operator());
      process.stdout.write('reconciliation requested; `npm run status` shows the result\n');
    } finally {
      await handles.close();
    }
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`ibstack: ${(error as Error).message}\n`);
  process.exit(1);
});
