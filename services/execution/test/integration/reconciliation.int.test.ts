/**
 * Reconciliation's own failure modes: a run that cannot compare (a broker read that never answers) is
 * stored and counted as not clean and, with no clean run for the configured time while trading, halts;
 * and a comparison made while an order fills in slices never halts on the fills in flight.
 */
import { createRegistry, type Registry } from '@ibstack/observability';
import { eventually } from '@ibstack/test-kit';

import type {} from '../../src/service';
import {
  intent,
  ordersOf,
  publishIntent,
  reconciliationRuns,
  tradingState,
  inProcessScenario,
} from './harness';

const GENEROUS_LIMITS = JSON.stringify({
  maxOrderNotionalUsd: 1e13,
  maxPositionUsd: 1e14,
  maxOrdersPerMinute: 100000,
});

async function metricValues(registry: Registry, name: string) {
  return (await registry.getSingleMetric(name)!.get()).values;
}

describe('reconciliation', () => {
  const scenario = inProcessScenario();

  it('counts a run that cannot compare as failed and halts once no run has been clean for the limit', async () => {
    const harness = await scenario.startHarness();
    const registry = createRegistry('execution', { defaultMetrics: false });
    await scenario.startService(
      {
        RECONCILE_INTERVAL_MS: '1000',
        RECONCILE_MAX_CLEAN_AGE_MS: '5000',
        RECONCILE_READ_TIMEOUT_MS: '500',
      },
      registry,
    );
    await reconciliationRuns(harness, 1);
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');
    // The run's row is written before its clean-run gauge is set (after the publish and the baselines).
    const lastClean = await eventually(async () => {
      const value = (await metricValues(registry, 'reconciliation_last_clean_run_unix'))[0]!.value;
      expect(value).toBeGreaterThan(0);
      return value;
    });

    // From now on the broker never answers a positions request: every run times out.
    harness.sim.faults.leaveUnanswered('reqPositions', 1_000_000);
    const failed = await eventually(
      async () => {
        const runs = await harness.database.db
          .selectFrom('reconciliation_runs')
          .selectAll()
          .where('error', 'is not', null)
          .execute();
        expect(runs.length).toBeGreaterThanOrEqual(1);
        return runs;
      },
      { timeoutMs: 20_000 },
    );
    expect(failed[0]).toMatchObject({ ok: false, error: expect.stringMatching(/reqPositions/) as unknown });
    const counted = await metricValues(registry, 'reconciliation_runs_total');
    expect(counted.find((value) => value.labels.result === 'failed')?.value).toBeGreaterThanOrEqual(1);

    const halted = await eventually(
      async () => {
        const state = await tradingState(harness.bus);
        expect(state?.state).toBe('HALTED');
        return state!;
      },
      { timeoutMs: 30_000 },
    );
    expect(halted.reason).toMatch(/no clean reconciliation for \d+ s \(limit 5 s\)/);
    // The age the alert reads did not move: no run was clean since.
    expect((await metricValues(registry, 'reconciliation_last_clean_run_unix'))[0]!.value).toBe(lastClean);
  });

  it('never halts on fills in flight while reconciling in a loop as a large order fills in slices', async () => {
    const harness = await scenario.startHarness({ speed: 4, initialCash: 10_000_000_000 });
    const service = await scenario.startService({
      RISK_LIMITS_JSON: GENEROUS_LIMITS,
      RECONCILE_INTERVAL_MS: '600000',
      // Few comparisons per run, so the loop makes many runs while the order fills.
      RECONCILE_SETTLE_ATTEMPTS: '2',
    });
    await reconciliationRuns(harness, 1);
    // 60 times the top of book: one slice per simulated second, one every 250 ms of wall time.
    const topSize = harness.sim.quote('EUR.CAD')!.askSize;
    await publishIntent(harness.bus, intent({ quantity: String(topSize * 60) }));
    await eventually(async () =>
      expect(Number((await ordersOf(harness))[0]?.filled_quantity ?? 0)).toBeGreaterThan(0),
    );

    const results: boolean[] = [];
    let done = false;
    while (!done) {
      const result = await service.reconcileNow('operator');
      results.push(result!.ok);
      if (!result!.ok) break;
      done = (await ordersOf(harness))[0]!.status === 'filled';
    }
    expect(results.every(Boolean)).toBe(true);
    expect(results.length).toBeGreaterThanOrEqual(3);
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');
    // And once it has settled, the books agree with the broker exactly.
    const last = await service.reconcileNow('operator');
    expect(last).toMatchObject({ ok: true, mismatches: [] });
    // It really filled in slices. The count is not exact: the sim's top of book moves between slices
    // (27 to 60 seen), so the bound only proves many partial fills happened while the loop ran.
    expect(
      (await harness.database.db.selectFrom('executions').select('exec_id').execute()).length,
    ).toBeGreaterThanOrEqual(10);
  });

  it('reports an overfilled order, an average cost the broker disagrees with, and a position in a second account', async () => {
    const harness = await scenario.startHarness({ extraAccounts: ['DU7654321'] });
    const service = await scenario.startService();
    await reconciliationRuns(harness, 1);
    await publishIntent(harness.bus, intent({ quantity: '20000' }));
    const order = await eventually(async () => {
      const [row] = await ordersOf(harness);
      expect(row?.status).toBe('filled');
      return row!;
    });
    expect((await service.reconcileNow('operator'))?.ok).toBe(true);

    // The broker books 5000 more than the order's size; it changes the position's average cost by hand;
    // and a second account the login manages holds a position none of our books has.
    harness.sim.faults.overfillOrder(10, order.broker_order_id!, 5_000);
    await eventually(async () =>
      expect(await harness.database.db.selectFrom('executions').select('exec_id').execute()).toHaveLength(2),
    );
    const [held] = harness.sim.account.positions();
    harness.sim.faults.adjustAverageCost('EUR.CAD', held!.averageCost * 1.05);
    harness.sim.faults.driftPosition('EUR.CAD', 7_000, 'DU7654321');

    const result = await service.reconcileNow('operator');
    expect(result?.ok).toBe(false);
    const kinds = result!.mismatches.map((mismatch) => mismatch.kind).sort();
    expect(kinds).toEqual(['order_overfilled', 'position_average_cost', 'position_unknown_locally']);
    const byKind = new Map(result!.mismatches.map((mismatch) => [mismatch.kind, mismatch]));
    expect(byKind.get('order_overfilled')).toMatchObject({ local: 'ordered 20000', broker: 'filled 25000' });
    expect(byKind.get('position_unknown_locally')!.detail).toContain('DU7654321');
    await eventually(async () => expect((await tradingState(harness.bus))?.state).toBe('HALTED'));
  });
});
