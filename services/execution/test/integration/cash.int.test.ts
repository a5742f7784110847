/**
 * Cash reconciliation: the broker's cash per currency ($LEDGER) against a baseline plus the cash our
 * stored executions moved since (notional in the quote currency, quantity in a pair's base currency,
 * commissions). A move no execution of ours explains (a fee, a withdrawal) is a `cash_balance` mismatch
 * and halts, once; trading normally, with fills arriving in slices while reconciling, never is.
 */
import { eventually } from '@ibstack/test-kit';

import type {} from '../../src/service';
import {
  intent,
  ordersOf,
  publishIntent,
  reconciliationRuns,
  setTradingState,
  tradingState,
  inProcessScenario,
} from './harness';

const GENEROUS_LIMITS = JSON.stringify({
  maxOrderNotionalUsd: 1e13,
  maxPositionUsd: 1e14,
  maxOrdersPerMinute: 100000,
});

describe('cash reconciliation', () => {
  const scenario = inProcessScenario();

  const baselines = () =>
    scenario.harness.database.db.selectFrom('cash_baselines').selectAll().orderBy('currency').execute();
  const allFilled = (count: number) =>
    eventually(
      async () => {
        const orders = await ordersOf(scenario.harness);
        expect(orders.map((order) => order.status)).toEqual(Array(count).fill('filled'));
      },
      { timeoutMs: 30_000 },
    );

  it('reports cash the broker moved without a trade of ours as cash_balance, halts, and reports it once', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService();
    await reconciliationRuns(harness, 1);
    // The start's run takes the baseline.
    await eventually(async () =>
      expect((await baselines()).map((row) => [row.currency, row.reason])).toEqual([['USD', 'first']]),
    );
    await publishIntent(harness.bus, intent({ quantity: '20000' }));
    await allFilled(1);
    expect((await service.reconcileNow('operator'))!.ok).toBe(true);

    // A fee the stack did not pay.
    harness.sim.faults.adjustCash('USD', -250);
    const result = (await service.reconcileNow('operator'))!;
    expect(result.ok).toBe(false);
    expect(result.mismatches).toEqual([
      expect.objectContaining({
        kind: 'cash_balance',
        detail: expect.stringMatching(
          /^USD cash of DU1234567 is [\d.]+ at the broker; .* off by -2(49|50)\.?\d*,/,
        ) as unknown,
      }),
    ]);
    const off = Number(/off by (-?[\d.]+)/.exec(result.mismatches[0]!.detail)![1]);
    expect(Math.abs(off + 250)).toBeLessThan(0.01);
    expect((await tradingState(harness.bus))?.state).toBe('HALTED');
    // The run keeps the figures it compared.
    const run = await harness.database.db
      .selectFrom('reconciliation_runs')
      .select('cash')
      .where('run_id', '=', result.runId)
      .executeTakeFirstOrThrow();
    expect(run.cash).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          account: 'DU1234567',
          currency: 'EUR',
          brokerCash: '20000',
          executionsEffect: '20000',
        }),
      ]),
    );

    // Reported once: the operator resumes, and the next run measures from the broker's cash as it is.
    await setTradingState(harness, 'RUNNING');
    expect((await service.reconcileNow('operator'))!.ok).toBe(true);
    expect((await baselines()).every((row) => row.reason === 'after_mismatch')).toBe(true);
  });

  it('finds no cash mismatch while trading normally: many fills in three currencies, reconciling as they arrive', async () => {
    const harness = await scenario.startHarness({ speed: 4, initialCash: 10_000_000_000 });
    const service = await scenario.startService({
      RISK_LIMITS_JSON: GENEROUS_LIMITS,
      RECONCILE_SETTLE_ATTEMPTS: '2',
    });
    await reconciliationRuns(harness, 1);
    await eventually(async () => expect((await baselines()).length).toBeGreaterThan(0));
    const topSize = harness.sim.quote('EUR.CAD')!.askSize;
    // A large order that fills in slices, and small ones both ways around it.
    await publishIntent(harness.bus, intent({ quantity: String(topSize * 20) }));
    for (let index = 0; index < 10; index++)
      await publishIntent(
        harness.bus,
        intent({ side: index % 2 === 0 ? 'SELL' : 'BUY', quantity: String(1_000 + index * 137) }),
      );

    const results: boolean[] = [];
    for (;;) {
      const result = (await service.reconcileNow('operator'))!;
      results.push(result.ok);
      if (!result.ok) break;
      const orders = await ordersOf(harness);
      if (orders.length === 11 && orders.every((order) => order.status === 'filled')) break;
    }
    expect(results.every(Boolean)).toBe(true);
    await allFilled(11);
    const executions = await harness.database.db.selectFrom('executions').select('exec_id').execute();
    // Eleven orders, the large one in slices: how many slices depends on how the sim's top of book moves
    // meanwhile (19 to 30 seen), so the bound asks only for more fills than orders.
    expect(executions.length).toBeGreaterThanOrEqual(15);
    // Settled: the books and the broker's cash in USD, EUR and CAD agree against the start's baseline.
    const final = (await service.reconcileNow('operator'))!;
    expect(final).toMatchObject({ ok: true, mismatches: [] });
    expect((await baselines()).map((row) => row.reason)).toEqual(['first']);
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');
  });
});
