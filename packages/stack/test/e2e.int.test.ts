/**
 * The whole stack, started by the same runner as `npm start`, with the simulated market sped up: the demo
 * sleeve trades; Postgres agrees with the simulated broker; a restart of everything mid-trading neither
 * duplicates an order nor loses a fill; drift at the broker halts trading and `status` says why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Bus } from '@ibstack/bus';
import { connectDatabase, type DatabaseHandle } from '@ibstack/db';
import { createRegistry } from '@ibstack/observability';
import {
  dropDatabase,
  eventually,
  freePort,
  freePortRange,
  silentLogger,
  spawnTs,
  type SpawnedProcess,
  testEnvironment,
  uniqueSuffix,
} from '@ibstack/test-kit';

const ROOT = join(__dirname, '..', '..', '..');
const START = join(ROOT, 'packages', 'stack', 'src', 'cli', 'start.ts');
const CLI = join(ROOT, 'packages', 'stack', 'src', 'cli', 'ibstack.ts');

interface SimOrder {
  orderId: number;
  orderRef: string;
  status: string;
}
interface SimExecution {
  execId: string;
}
interface SimPosition {
  instrument: string;
  quantity: number;
}

describe('the whole stack (npm start) against the simulated gateway', () => {
  const databaseName = `ibstack_test_${uniqueSuffix()}`;
  const namespace = `t${uniqueSuffix()}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'ibstack-e2e-'));
  let env: Record<string, string>;
  let simUrl: string;
  let runner: SpawnedProcess | undefined;
  let database: DatabaseHandle | undefined;
  let bus: Bus | undefined;

  async function startStack(): Promise<SpawnedProcess> {
    const child = spawnTs(START, [], env);
    await child.waitForLine('all services ready', 180_000);
    return child;
  }

  async function stopStack(): Promise<void> {
    await runner?.kill('SIGTERM');
    runner = undefined;
  }

  async function cli(...args: string[]): Promise<string> {
    const child = spawnTs(CLI, args, env);
    const { code } = await child.exited;
    const output = child.lines.join('\n');
    if (code !== 0) throw new Error(`ibstack ${args.join(' ')} exited ${code}: ${output}`);
    return output;
  }

  async function sim<T>(path: string): Promise<T> {
    return (await (await fetch(`${simUrl}${path}`)).json()) as T;
  }

  async function filledOrders(): Promise<number> {
    const rows = await database!.db
      .selectFrom('orders')
      .select('status')
      .where('status', '=', 'filled')
      .execute();
    return rows.length;
  }

  /** Halts, lets orders in flight finish, and checks Postgres against the simulated broker. */
  async function expectBooksToAgree(): Promise<void> {
    await cli('halt', 'e2e: compare books');
    await eventually(
      async () => {
        const open = await database!.db
          .selectFrom('orders')
          .select('id')
          .where('status', 'in', ['pending', 'submitted', 'partially_filled'])
          .execute();
        expect(open).toEqual([]);
      },
      { timeoutMs: 30_000 },
    );
    const simOrders = await sim<SimOrder[]>('/admin/orders');
    const orders = await database!.db
      .selectFrom('orders')
      .select(['intent_id', 'broker_order_id', 'status'])
      .where('broker_order_id', 'is not', null)
      .execute();
    // One broker order per recorded order, matched by the intent id carried in orderRef, and no others.
    expect(simOrders.map((order) => order.orderRef).sort()).toEqual(
      orders.map((order) => order.intent_id).sort(),
    );
    expect(new Set(simOrders.map((order) => order.orderRef)).size).toBe(simOrders.length);
    const intents = await database!.db
      .selectFrom('order_intents')
      .select('intent_id')
      .where('status', '=', 'accepted')
      .execute();
    expect(orders.map((order) => order.intent_id).sort()).toEqual(
      intents.map((intent) => intent.intent_id).sort(),
    );

    await eventually(async () => {
      const executions = await database!.db
        .selectFrom('executions')
        .select('exec_id')
        .where('superseded_by', 'is', null)
        .execute();
      const simExecutions = await sim<SimExecution[]>('/admin/executions');
      expect(executions.map((row) => row.exec_id).sort()).toEqual(
        simExecutions.map((row) => row.execId).sort(),
      );
    });
    const positions = await database!.db.selectFrom('positions').select(['instrument', 'quantity']).execute();
    const simPositions = await sim<SimPosition[]>('/admin/positions');
    const ours = Object.fromEntries(
      positions.filter((p) => Number(p.quantity) !== 0).map((p) => [p.instrument, Number(p.quantity)]),
    );
    const theirs = Object.fromEntries(simPositions.map((p) => [p.instrument.replace('.', ''), p.quantity]));
    expect(ours).toEqual(theirs);
    await cli('resume', 'e2e: books agree');
  }

  beforeAll(async () => {
    const base = new URL(testEnvironment().databaseUrl);
    base.pathname = `/${databaseName}`;
    const httpBase = await freePortRange(7);
    simUrl = `http://127.0.0.1:${httpBase}`;
    env = {
      DATABASE_URL: base.toString(),
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: namespace,
      IB_PORT: String(await freePort()),
      STACK_HTTP_PORT_BASE: String(httpBase),
      STACK_STATE_DIR: stateDir,
      SIM_SPEED: '30',
      BACKFILL_DAYS: '0.05',
      LOG_LEVEL: 'info',
      IBSTACK_OPERATOR: 'e2e-test',
      NO_COLOR: '1',
    };
  });

  afterAll(async () => {
    await stopStack();
    await bus?.destroyNamespace().catch(() => undefined);
    await bus?.close();
    await database?.close();
    await dropDatabase(env.DATABASE_URL!, databaseName).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('trades the demo sleeve, survives a full restart without duplicates or lost fills, and halts on drift', async () => {
    runner = await startStack();
    // The dashboard runs on the fifth port and the runner says where, and how to make the first user.
    const dashboardUrl = `http://127.0.0.1:${Number(env.STACK_HTTP_PORT_BASE) + 4}`;
    await runner.waitForLine(`dashboard: ${dashboardUrl} — first user: npm run user -- add`);
    expect((await fetch(`${dashboardUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${dashboardUrl}/api/positions`)).status).toBe(401);
    database = await connectDatabase(env.DATABASE_URL!, { maxConnections: 2 });
    bus = await Bus.connect({
      url: env.NATS_URL!,
      name: 'e2e',
      namespace,
      logger: silentLogger(),
      registry: createRegistry('e2e', { defaultMetrics: false }),
    });

    await eventually(async () => expect(await filledOrders()).toBeGreaterThanOrEqual(2), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    await expectBooksToAgree();
    // The CLI's halt and resume are audited with the operator's name.
    const audit = await database.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('actor', '=', 'e2e-test')
      .execute();
    expect(audit.map((row) => row.action)).toEqual(['halt', 'resume']);

    // Restart everything while the demo keeps trading.
    const before = await filledOrders();
    await eventually(async () => expect(await filledOrders()).toBeGreaterThan(before), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    await stopStack();
    runner = await startStack();
    const afterRestart = await filledOrders();
    await eventually(async () => expect(await filledOrders()).toBeGreaterThanOrEqual(afterRestart + 2), {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    await expectBooksToAgree();

    // Drift: a position change at the broker that no order explains.
    await fetch(`${simUrl}/admin/drift-position`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instrument: 'EUR.CAD', quantity: 7000 }),
    });
    await cli('reconcile');
    const status = await eventually(
      async () => {
        const json = JSON.parse(await cli('status', '--json')) as {
          tradingState: { state: string; reason: string } | null;
        };
        expect(json.tradingState?.state).toBe('HALTED');
        return json;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(status.tradingState!.reason).toMatch(/reconciliation mismatch/);
    const screen = await cli('status');
    expect(screen).toMatch(/HALTED/);
    expect(screen).toMatch(/position_quantity/);
  }, 600_000);
});
