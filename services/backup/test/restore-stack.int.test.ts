/**
 * The restore test the operator's runbook relies on: a stack (`npm start`, the same runner) trades on
 * the simulated gateway until the database holds filled orders; the backup CLI backs it up (database and
 * the simulator's account); the stack stops; the backup CLI restores it into a fresh database and a fresh
 * state directory; a new stack starts on what was restored. It must reconcile clean with the broker (no
 * mismatch, no halt) and go on trading, and the deploy's health gate passes on it; drift at the broker
 * then fails the gate at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  createTestBus,
  dropDatabase,
  eventually,
  freePort,
  freePortRange,
  runCommand,
  spawnTs,
  type SpawnedProcess,
  type TestBus,
  testEnvironment,
  uniqueSuffix,
} from '@ibstack/test-kit';
import pg from 'pg';

const ROOT = join(__dirname, '..', '..', '..');
const START = join(ROOT, 'packages', 'stack', 'src', 'cli', 'start.ts');
const STACK_CLI = join(ROOT, 'packages', 'stack', 'src', 'cli', 'ibstack.ts');
const BACKUP_CLI = join(ROOT, 'services', 'backup', 'src', 'cli.ts');
const HEALTH_GATE = join(ROOT, 'packages', 'stack', 'src', 'cli', 'health-gate.ts');

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

interface Stack {
  env: Record<string, string>;
  databaseName: string;
  stateDir: string;
  testBus: TestBus;
  process?: SpawnedProcess;
}

describe('a backup restored into a fresh database', () => {
  const work = mkdtempSync(join(tmpdir(), 'ibstack-restore-'));
  const backupDir = join(work, 'backups');
  const stacks: Stack[] = [];

  async function newStack(name: string): Promise<Stack> {
    const databaseName = `ibstack_test_${uniqueSuffix()}`;
    const url = new URL(testEnvironment().databaseUrl);
    url.pathname = `/${databaseName}`;
    const stateDir = join(work, `${name}-state`);
    const httpBase = await freePortRange(4);
    const testBus = await createTestBus({ name: `restore-test-${name}` });
    const stack: Stack = {
      databaseName,
      stateDir,
      testBus,
      env: {
        DATABASE_URL: url.toString(),
        NATS_URL: testEnvironment().natsUrl,
        BUS_NAMESPACE: testBus.namespace,
        IB_PORT: String(await freePort()),
        STACK_HTTP_PORT_BASE: String(httpBase),
        STACK_STATE_DIR: stateDir,
        SIM_SPEED: '30',
        BACKFILL_DAYS: '0.05',
        LOG_LEVEL: 'info',
        IBSTACK_OPERATOR: 'restore-test',
        NO_COLOR: '1',
      },
    };
    stacks.push(stack);
    return stack;
  }

  async function start(stack: Stack): Promise<void> {
    stack.process = spawnTs(START, [], stack.env);
    await stack.process.waitForLine('all services ready', 180_000);
  }

  async function stop(stack: Stack): Promise<void> {
    await stack.process?.kill('SIGTERM');
    stack.process = undefined;
  }

  const filledOrders = async (stack: Stack) =>
    Number(
      (
        await query<{ count: string }>(
          stack.env.DATABASE_URL!,
          "select count(*) from orders where status = 'filled'",
        )
      )[0]!.count,
    );

  const backupCli = (stack: Stack, ...args: string[]) =>
    runCommand(process.execPath, ['--import', 'tsx', BACKUP_CLI, ...args], {
      env: {
        DATABASE_URL: stack.env.DATABASE_URL,
        BACKUP_DIR: backupDir,
        BACKUP_STATE_DIRS: `gateway-sim=${stack.stateDir}`,
        LOG_LEVEL: 'warn',
      },
      timeoutMs: 120_000,
    });

  afterAll(async () => {
    for (const stack of stacks) {
      await stop(stack);
      await dropDatabase(stack.env.DATABASE_URL!, stack.databaseName).catch(() => undefined);
      await stack.testBus.destroy().catch(() => undefined);
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('reconciles clean with the broker and trades on', async () => {
    // 1. Trade until the database holds filled orders, then halt so nothing is in flight.
    const original = await newStack('original');
    await start(original);
    await eventually(async () => expect(await filledOrders(original)).toBeGreaterThanOrEqual(2), {
      timeoutMs: 180_000,
      intervalMs: 1_000,
    });
    const halt = await runCommand(
      process.execPath,
      ['--import', 'tsx', STACK_CLI, 'halt', 'restore test: back up'],
      {
        env: original.env,
      },
    );
    expect(halt.code).toBe(0);
    await eventually(
      async () =>
        expect(
          await query(
            original.env.DATABASE_URL!,
            "select id from orders where status in ('pending', 'submitted', 'partially_filled')",
          ),
        ).toEqual([]),
      { timeoutMs: 60_000 },
    );

    // 2. Back up the running stack, as the scheduled backup would.
    const backup = await backupCli(original, 'backup');
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const name = /^(ibstack-\S+-manual) /.exec(backup.stdout)![1]!;
    const counts = async (url: string) =>
      query<{ orders: string; executions: string; intents: string }>(
        url,
        'select (select count(*) from orders) as orders, (select count(*) from executions) as executions, (select count(*) from order_intents) as intents',
      );
    const atBackup = await counts(original.env.DATABASE_URL!);
    await stop(original);

    // 3. Restore into a fresh database and a fresh state directory.
    const restored = await newStack('restored');
    const restore = await backupCli(restored, 'restore', name, '--database', restored.databaseName);
    expect(restore.stderr).toBe('');
    expect(restore.stdout).toBe(`restored ${name} into database ${restored.databaseName} and gateway-sim\n`);
    expect(await counts(restored.env.DATABASE_URL!)).toEqual(atBackup);
    const filledAtBackup = await filledOrders(restored);

    // 4. A new stack on what was restored: a clean reconciliation at start, no halt, and new fills.
    const startedAt = new Date();
    await start(restored);
    const run = await eventually(
      async () => {
        const runs = await query<{
          ok: boolean;
          trigger: string;
          mismatches: unknown[];
          error: string | null;
        }>(
          restored.env.DATABASE_URL!,
          `select ok, trigger, mismatches, error from reconciliation_runs where started_at >= '${startedAt.toISOString()}' order by finished_at`,
        );
        expect(runs.length).toBeGreaterThan(0);
        return runs;
      },
      { timeoutMs: 60_000 },
    );
    expect(run[0]).toEqual({ ok: true, trigger: 'start', mismatches: [], error: null });
    // The backup was taken halted, and the trading state is in the database too (migration 0011): the
    // restored stack stays halted until an operator resumes it, as after any halt.
    const stillHalted = await query<{ state: string }>(
      restored.env.DATABASE_URL!,
      'select state from trading_state',
    );
    expect(stillHalted).toEqual([{ state: 'HALTED' }]);
    const resume = await runCommand(
      process.execPath,
      ['--import', 'tsx', STACK_CLI, 'resume', 'restore test: restored'],
      { env: restored.env },
    );
    expect(resume.code).toBe(0);
    await eventually(
      async () => expect(await filledOrders(restored)).toBeGreaterThanOrEqual(filledAtBackup + 2),
      {
        timeoutMs: 180_000,
        intervalMs: 1_000,
      },
    );
    const allRuns = await query<{ ok: boolean }>(
      restored.env.DATABASE_URL!,
      `select ok from reconciliation_runs where started_at >= '${startedAt.toISOString()}'`,
    );
    expect(allRuns.every((row) => row.ok)).toBe(true);
    const status = await runCommand(process.execPath, ['--import', 'tsx', STACK_CLI, 'status', '--json'], {
      env: restored.env,
    });
    expect(
      (JSON.parse(status.stdout) as { tradingState: { state: string } | null }).tradingState?.state ??
        'RUNNING',
    ).toBe('RUNNING');

    // 5. The deploy's health gate, against this running stack: it passes (every service ready, clean
    //    reconciliation since the start); then drift at the broker makes the next reconciliation a
    //    mismatch, which fails the gate at once.
    const httpBase = Number(restored.env.STACK_HTTP_PORT_BASE);
    const services = ['gateway-sim', 'ingestor', 'strategy', 'execution'].flatMap((name, offset) => [
      '--service',
      `${name}=http://127.0.0.1:${httpBase + offset}`,
    ]);
    const gate = (since: Date, timeout: number) =>
      runCommand(
        process.execPath,
        [
          '--import',
          'tsx',
          HEALTH_GATE,
          '--since',
          since.toISOString(),
          '--timeout',
          String(timeout),
          ...services,
        ],
        { env: { DATABASE_URL: restored.env.DATABASE_URL! } },
      );
    const passed = await gate(startedAt, 60);
    expect(passed.stdout).toMatch(
      /^health gate passed in \d+ s: gateway-sim, ingestor, strategy, execution ready; reconciled clean\n$/,
    );
    expect(passed.code).toBe(0);

    const driftAt = new Date();
    await fetch(`http://127.0.0.1:${httpBase}/admin/drift-position`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instrument: 'EUR.CAD', quantity: 7000 }),
    });
    const reconcile = await runCommand(process.execPath, ['--import', 'tsx', STACK_CLI, 'reconcile'], {
      env: restored.env,
    });
    expect(reconcile.code).toBe(0);
    const failed = await gate(driftAt, 120);
    expect(failed.stdout).toMatch(/^health gate failed after \d+ s: .*found a mismatch: .*position/);
    expect(failed.code).toBe(1);
  }, 900_000);
});
