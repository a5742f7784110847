/**
 * The deploy's health gate: the verdict table, and the CLI scripts/deploy.sh runs, against the real
 * Postgres and a real health server (ours, from @ibstack/observability). The gate against a whole running
 * stack (a clean pass after a restore, a mismatch failing it at once) is in
 * services/backup/test/restore-stack.int.test.ts, which runs one anyway.
 */
import { join } from 'node:path';

import { createRegistry, type HealthServer, startHealthServer } from '@ibstack/observability';
import { createTestDatabase, freePort, runCommand, type TestDatabase } from '@ibstack/test-kit';

import { gateVerdict, type GateObservation } from '../src/health-gate';

const CLI = join(__dirname, '..', 'src', 'cli', 'health-gate.ts');

describe('the health gate verdict', () => {
  const ready = { ready: true, detail: 'ready' };
  const clean = { state: 'clean', trigger: 'start', at: '2026-12-03T15:00:05.000Z' } as const;

  it.each<[string, GateObservation, string, string[]]>([
    [
      'all ready, reconciled clean',
      { services: { execution: ready, strategy: ready }, reconciliation: clean },
      'passed',
      [],
    ],
    [
      'a service not ready',
      {
        services: { execution: ready, strategy: { ready: false, detail: '/readyz 503' } },
        reconciliation: clean,
      },
      'waiting',
      ['strategy not ready (/readyz 503)'],
    ],
    [
      'no reconciliation yet',
      { services: { execution: ready }, reconciliation: { state: 'none' } },
      'waiting',
      ['no reconciliation since the deploy began'],
    ],
    [
      'a reconciliation that could not compare',
      {
        services: { execution: ready },
        reconciliation: { state: 'incomplete', at: 'x', error: 'broker read timed out' },
      },
      'waiting',
      ['the last reconciliation could not compare (broker read timed out); waiting for the next'],
    ],
    [
      'a mismatch, even with a service not ready',
      {
        services: { execution: { ready: false, detail: 'ECONNREFUSED' } },
        reconciliation: {
          state: 'mismatch',
          trigger: 'start',
          at: 't',
          mismatches: ['position_quantity: EURCAD 0 vs 7000'],
        },
      },
      'failed',
      [
        'execution not ready (ECONNREFUSED)',
        'reconciliation (start, t) found a mismatch: position_quantity: EURCAD 0 vs 7000',
      ],
    ],
  ])('%s', (_, observation, outcome, reasons) => {
    expect(gateVerdict(observation)).toEqual({ outcome, reasons });
  });
});

describe('the health-gate CLI', () => {
  let database: TestDatabase;
  let service: HealthServer;
  let ready = true;

  const gate = (args: string[], env: Record<string, string> = {}) =>
    runCommand(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { DATABASE_URL: database.url, ...env },
    });

  const recordRun = (at: Date, run: { ok: boolean; mismatches?: unknown[]; error?: string | null }) =>
    database.db
      .insertInto('reconciliation_runs')
      .values({
        run_id: `run-${at.getTime()}-${Math.random()}`,
        trigger: 'start',
        ok: run.ok,
        mismatches: JSON.stringify(run.mismatches ?? []),
        positions_checked: 1,
        open_orders_checked: 0,
        executions_checked: 2,
        started_at: at,
        finished_at: new Date(at.getTime() + 50),
        error: run.error ?? null,
      })
      .execute();

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      registry: createRegistry('gate-test', { defaultMetrics: false }),
      checks: [{ name: 'postgres', check: () => ready }],
    });
  });

  afterAll(async () => {
    await service?.close();
    await database?.drop();
  });

  it('passes when every service is ready and execution reconciled clean since the deploy began', async () => {
    const since = new Date();
    await recordRun(new Date(since.getTime() - 60_000), {
      ok: false,
      mismatches: [{ kind: 'old', detail: 'before the deploy' }],
    });
    await recordRun(new Date(since.getTime() + 1_000), { ok: true });
    const result = await gate([
      '--since',
      since.toISOString(),
      '--timeout',
      '20',
      '--service',
      `execution=${service.url}`,
    ]);
    expect(result.stdout).toMatch(/^health gate passed in \d+ s: execution ready; reconciled clean\n$/);
    expect(result.code).toBe(0);
  });

  it('fails at the deadline naming a service that is not ready and one that does not answer', async () => {
    ready = false;
    const dead = await freePort();
    const since = new Date();
    await recordRun(new Date(since.getTime() + 500), { ok: true });
    try {
      const result = await gate([
        '--since',
        since.toISOString(),
        '--timeout',
        '3',
        '--service',
        `strategy=${service.url}`,
        '--service',
        `ingestor=http://127.0.0.1:${dead}`,
      ]);
      expect(result.stdout).toMatch(
        /^health gate failed after \d+ s: strategy not ready \(\/readyz 503: .*"postgres":false.*\); ingestor not ready \(ECONNREFUSED\)\n$/,
      );
      expect(result.code).toBe(1);
    } finally {
      ready = true;
    }
  });

  it('fails at once on a reconciliation mismatch, long before the deadline', async () => {
    const since = new Date();
    await recordRun(new Date(since.getTime() + 500), {
      ok: false,
      mismatches: [{ kind: 'position_quantity', detail: 'EURCAD ours 0, broker 7000' }],
    });
    const started = Date.now();
    const result = await gate([
      '--since',
      since.toISOString(),
      '--timeout',
      '120',
      '--service',
      `execution=${service.url}`,
    ]);
    expect(result.stdout).toMatch(/found a mismatch: position_quantity: EURCAD ours 0, broker 7000/);
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it.each([
    [['--timeout', '5', '--service', 'x=http://127.0.0.1:1'], /--since/],
    [['--since', 'yesterday', '--service', 'x=http://127.0.0.1:1'], /must be a time/],
    [['--since', '2026-12-03T15:00:00Z', '--service', 'execution:9403'], /is not name=http:\/\/host:port/],
    [['--since', '2026-12-03T15:00:00Z'], /name at least one --service/],
  ])('exits 78 naming a bad argument: %j', async (args, message) => {
    const result = await gate(args);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(78);
  });
});
