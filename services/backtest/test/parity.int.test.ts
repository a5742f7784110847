/**
 * Parity: the stack (`npm start`: ingestor, strategy, execution against the simulated gateway) trades the
 * demo strategy live over a window of bars; the backtest then replays the bars the ingestor stored over the
 * same window. The intents must be the same (the same ids, sides, quantities and risk outcomes: the ids derive
 * from sleeve, instrument and bar), and each live fill must match the backtest's fill of the same intent in
 * side and quantity, with its price within the fill model's tolerance: the backtest fills at the bar's
 * close, the stack some seconds of simulated time later, so the two may differ by what the market moved
 * in between (the bars' range over that span) and the quote's spread.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connectDatabase, type DatabaseHandle } from '@ibstack/db';
import { BUILT_IN_INSTRUMENTS } from '@ibstack/gateway-sim';
import { builtInStrategies, loadSleevesFile } from '@ibstack/strategy';
import {
  dropDatabase,
  eventually,
  freePort,
  freePortRange,
  spawnTs,
  type SpawnedProcess,
  testEnvironment,
  uniqueSuffix,
} from '@ibstack/test-kit';

import { runBacktest } from '../src/backtest';
import { barStreams, loadBarsFromPostgres } from '../src/bar-source';

const ROOT = join(__dirname, '..', '..', '..');
const START = join(ROOT, 'packages', 'stack', 'src', 'cli', 'start.ts');
const MINUTE = 60_000;
/** The sim's starting cash: the backtest's account starts where the live one did. */
const SIM_INITIAL_CASH = 1_000_000;

// The demo sleeve, with the order-rate limit out of the way: the live stack counts it in wall-clock time
// (a sim minute is 3 s here), the backtest in bar time, so with the demo's 6 a minute the two would differ.
const SLEEVES = `
instruments: [EUR.CAD]
riskDefaults:
  maxOrdersPerMinute: 1000
  drawdownWarnPct: 5
  drawdownReducePct: 10
sleeves:
  - name: demo
    strategy: ma-crossover
    instruments: [EUR.CAD]
    timeframe: 1m
    capitalUsd: 25000
    parameters: { fast: 2, slow: 5, average: sma, allowShort: true }
    sizing: { quantityStep: 1000 }
    risk: { maxPositionUsd: 40000, maxOrderNotionalUsd: 60000 }
`;

describe('backtest parity with the live stack', () => {
  const databaseName = `ibstack_test_${uniqueSuffix()}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'ibstack-parity-'));
  const sleevesFile = join(stateDir, 'sleeves.yaml');
  let env: Record<string, string>;
  let runner: SpawnedProcess | undefined;
  let database: DatabaseHandle | undefined;

  beforeAll(async () => {
    writeFileSync(sleevesFile, SLEEVES);
    const base = new URL(testEnvironment().databaseUrl);
    base.pathname = `/${databaseName}`;
    env = {
      DATABASE_URL: base.toString(),
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: `t${uniqueSuffix()}`,
      IB_PORT: String(await freePort()),
      STACK_HTTP_PORT_BASE: String(await freePortRange(8)),
      STACK_STATE_DIR: stateDir,
      SLEEVES_FILE: sleevesFile,
      SIM_SPEED: '20',
      BACKFILL_DAYS: '0.05',
      LOG_LEVEL: 'info',
      NO_COLOR: '1',
    };
  });

  afterAll(async () => {
    await runner?.kill('SIGTERM');
    await database?.close();
    await dropDatabase(env.DATABASE_URL!, databaseName).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('replays the bars the stack traded into the same intents and, within the fill model, the same fills', async () => {
    runner = spawnTs(START, [], env);
    await runner.waitForLine('all services ready', 180_000);
    database = await connectDatabase(env.DATABASE_URL!, { maxConnections: 2 });
    const db = database.db;
    const filled = async () =>
      (await db.selectFrom('orders').select('id').where('status', '=', 'filled').execute()).length;
    await eventually(async () => expect(await filled()).toBeGreaterThanOrEqual(4), {
      timeoutMs: 300_000,
      intervalMs: 1000,
    });
    // Stopping the stack ends the live window; everything it decided is in Postgres (intents are stored
    // with the bar's progress, in one transaction, before they are sent).
    await runner.kill('SIGTERM');
    runner = undefined;

    const liveIntents = await db
      .selectFrom('order_intents')
      .select(['intent_id', 'side', 'quantity', 'status', 'risk_reason', 'bar_ts'])
      .where('sleeve', '=', 'demo')
      .orderBy('bar_ts')
      .orderBy('sequence')
      .execute();
    const progress = await db
      .selectFrom('strategy_progress')
      .select('last_bar_ts')
      .where('sleeve', '=', 'demo')
      .executeTakeFirstOrThrow();
    // The live sleeve is flat until its first intent, so a backtest starting at that bar starts where it did.
    const fromMs = liveIntents[0]!.bar_ts.getTime();
    const toMs = progress.last_bar_ts.getTime() + MINUTE;

    const sleeves = loadSleevesFile(sleevesFile, builtInStrategies());
    const bars = await loadBarsFromPostgres(db, barStreams(sleeves), fromMs, toMs);
    const result = await runBacktest({ sleeves, bars, fromMs, toMs, initialCashUsd: SIM_INITIAL_CASH });

    // The same intents: ids, sides, quantities, accepted or blocked.
    expect(
      result.intents.map(({ intent, status, riskReason }) => ({
        id: intent.intentId,
        side: intent.side,
        quantity: intent.quantity,
        status,
        riskReason,
      })),
    ).toEqual(
      liveIntents.map((row) => ({
        id: row.intent_id,
        side: row.side,
        quantity: row.quantity,
        status: row.status === 'expired' ? 'accepted' : row.status,
        riskReason: row.risk_reason,
      })),
    );
    expect(result.intents.length).toBeGreaterThanOrEqual(4);

    // The same fills, within the fill model's tolerance.
    const executions = await db
      .selectFrom('executions')
      .select(['intent_id', 'side', 'quantity', 'price', 'executed_at'])
      .where('superseded_by', 'is', null)
      .execute();
    expect(executions.length).toBeGreaterThanOrEqual(4);
    const eurcad = BUILT_IN_INSTRUMENTS.find((instrument) => instrument.key === 'EURCAD')!;
    // The sim quotes one or two ticks of spread; the backtest one.
    const spread = 2 * eurcad.pricing.dynamics.spreadTicks * eurcad.minTick;
    const minuteBars = bars.filter((bar) => bar.instrument === 'EURCAD' && bar.timeframe === '1m');
    let compared = 0;
    for (const execution of executions) {
      const intent = result.intents.find((row) => row.intent.intentId === execution.intent_id);
      if (!intent) continue; // filled after the last bar the strategy processed
      const fills = result.trades.filter((trade) => trade.fill.intentId === execution.intent_id);
      expect(fills.map((f) => [f.fill.side, f.fill.quantity])).toEqual([
        [execution.side, execution.quantity],
      ]);
      const closeMs = Date.parse(intent.intent.barTs) + MINUTE;
      const liveMs = execution.executed_at.getTime();
      expect(liveMs).toBeGreaterThanOrEqual(closeMs - 1000);
      // How far the market moved between the bar's close and the live fill.
      const span = minuteBars.filter(
        (bar) => Date.parse(bar.ts) + MINUTE > closeMs - MINUTE && Date.parse(bar.ts) <= liveMs,
      );
      const high = Math.max(...span.map((bar) => Number(bar.high)));
      const low = Math.min(...span.map((bar) => Number(bar.low)));
      const tolerance = (span.length > 0 ? high - low : 0) + spread + eurcad.minTick;
      expect(Math.abs(Number(fills[0]!.fill.price) - Number(execution.price))).toBeLessThanOrEqual(tolerance);
      compared += 1;
    }
    expect(compared).toBeGreaterThanOrEqual(4);
  }, 600_000);
});
