/**
 * IB's execution window: `reqExecutions` delivers only the executions since the gateway's midnight (the
 * gateway-sim models it, as IB Gateway behaves). Reconciliation compares executions only over the window
 * the broker reports, so fills made between 17:00 New York (the trading day's start) and midnight do not
 * halt trading once the clock passes midnight; and a fill made before midnight while execution was away,
 * which `reqExecutions` no longer lists after it, is rebuilt from the completed order (stored once,
 * flagged as `execution_reconstructed`), and the positions agree.
 */
import { ReconciliationMismatch } from '@ibstack/contracts';
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

/** Tuesday 24 November 2026, 23:30 New York (EST): after the trading day's 17:00 start, before midnight. */
const BEFORE_MIDNIGHT_NEW_YORK = '2026-11-25T04:30:00.000Z';
const NEW_YORK_MIDNIGHT = Date.parse('2026-11-25T05:00:00.000Z');
const GATEWAY_ZONE = { GATEWAY_TIME_ZONE: 'America/New_York' };

describe("IB's execution window (reqExecutions reports only since the gateway's midnight)", () => {
  const scenario = inProcessScenario();

  /** Execution on the sim's clock shortly before midnight in New York, with IB's cut-off; reconciled once. */
  async function startBeforeMidnight() {
    const started = await scenario.start(
      {
        startTime: BEFORE_MIDNIGHT_NEW_YORK,
        speed: 1,
        timeZone: 'America/New_York',
        executionWindow: 'since-midnight',
      },
      GATEWAY_ZONE,
    );
    await reconciliationRuns(started.harness, 1);
    return started;
  }

  async function fills(count: number): Promise<void> {
    for (let index = 0; index < count; index++)
      await publishIntent(
        scenario.harness.bus,
        intent({ side: index % 2 === 0 ? 'BUY' : 'SELL', quantity: '10000' }),
      );
    await eventually(
      async () => {
        const orders = await ordersOf(scenario.harness);
        expect(orders.map((order) => order.status)).toEqual(Array(count).fill('filled'));
      },
      { timeoutMs: 20_000 },
    );
  }

  it('stays clean when the clock passes midnight after fills made between 17:00 and midnight', async () => {
    const { harness, service } = await startBeforeMidnight();
    await fills(3);
    const before = await service.reconcileNow('operator');
    expect(before).toMatchObject({ ok: true, executionsChecked: 3 });

    harness.sim.faults.advanceClock(45 * 60_000);
    expect(harness.sim.now()).toBeGreaterThan(NEW_YORK_MIDNIGHT);
    // The broker no longer lists them; our books still hold them, and the position agrees.
    const after = await service.reconcileNow('operator');
    expect(after).toMatchObject({ ok: true, mismatches: [], executionsChecked: 0 });

    // A fill after midnight is compared as usual.
    await publishIntent(harness.bus, intent({ side: 'SELL', quantity: '10000' }));
    await eventually(async () =>
      expect((await ordersOf(harness)).filter((order) => order.status === 'filled')).toHaveLength(4),
    );
    expect(await service.reconcileNow('operator')).toMatchObject({ ok: true, executionsChecked: 1 });
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');
  });

  it('rebuilds a fill made before midnight while disconnected, once, flagged, and the positions agree', async () => {
    const { harness, service } = await startBeforeMidnight();
    harness.sim.faults.withholdFills(true);
    await publishIntent(harness.bus, intent({ quantity: '20000' }));
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('submitted'));

    // Execution loses the gateway; the order fills before midnight; the clock passes midnight; it comes back.
    harness.sim.faults.refuseConnections(600_000);
    harness.sim.faults.dropAllConnections();
    await eventually(() => expect(harness.sim.clients()).toEqual([]));
    harness.sim.faults.withholdFills(false);
    await eventually(() => expect(harness.sim.account.executions()).toHaveLength(1));
    const [fill] = harness.sim.account.executions();
    expect(fill!.time).toBeLessThan(NEW_YORK_MIDNIGHT);
    harness.sim.faults.advanceClock(45 * 60_000);
    const runsBefore = (await reconciliationRuns(harness, 1)).length;
    await harness.sim.faults.acceptConnections();

    const runs = await reconciliationRuns(harness, runsBefore + 1, 30_000);
    const reconnect = runs.find((run) => run.trigger === 'reconnect');
    expect(reconnect).toMatchObject({ ok: true });
    const mismatches = ReconciliationMismatch.array().parse(reconnect!.mismatches);
    expect(mismatches).toEqual([
      expect.objectContaining({ kind: 'execution_reconstructed', instrument: 'EURCAD' }),
    ]);
    // Flagged as reported right after the run is stored.
    const stored = await eventually(async () => {
      const rows = await harness.database.db.selectFrom('executions').selectAll().execute();
      expect(rows).toEqual([
        expect.objectContaining({
          exec_id: expect.stringMatching(/^reconstructed\./) as unknown,
          quantity: '20000',
          reconstructed_from: 'completed_order/position_average_cost',
          flagged_at: expect.any(Date) as unknown,
        }),
      ]);
      return rows;
    });
    expect(Number(stored[0]!.price)).toBeCloseTo(fill!.price, 3);
    expect((await ordersOf(harness))[0]).toMatchObject({ status: 'filled' });
    const positions = await harness.database.db
      .selectFrom('positions')
      .select(['instrument', 'quantity'])
      .execute();
    expect(positions).toEqual([{ instrument: 'EURCAD', quantity: '20000' }]);
    expect(harness.sim.account.positions()).toEqual([
      expect.objectContaining({ instrument: 'EURCAD', quantity: 20_000 }),
    ]);
    const audited = await harness.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'execution_reconstructed')
      .execute();
    expect(audited).toHaveLength(1);
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');

    // Another session (a reconnect reruns recovery): nothing is rebuilt twice, nothing reported twice.
    const runsNow = (await reconciliationRuns(harness, 1)).length;
    harness.sim.faults.dropAllConnections();
    await reconciliationRuns(harness, runsNow + 1, 30_000);
    expect(await harness.database.db.selectFrom('executions').select('exec_id').execute()).toHaveLength(1);
    const again = await service.reconcileNow('operator');
    expect(again).toMatchObject({ ok: true, mismatches: [] });
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');
  });

  it('rebuilds the part of a working order filled before midnight while disconnected, from its status', async () => {
    const { harness, service } = await startBeforeMidnight();
    // A limit far below the market: it rests.
    await publishIntent(harness.bus, intent({ quantity: '30000', orderType: 'LMT', limitPrice: '1.2' }));
    const [resting] = await eventually(async () => {
      const orders = await ordersOf(harness);
      expect(orders[0]?.status).toBe('submitted');
      return orders;
    });

    harness.sim.faults.refuseConnections(600_000);
    harness.sim.faults.dropAllConnections();
    await eventually(() => expect(harness.sim.clients()).toEqual([]));
    // A part of it fills before midnight while nobody is connected; the order keeps working.
    harness.sim.faults.overfillOrder(resting!.client_id, resting!.broker_order_id!, 10_000);
    const [fill] = harness.sim.account.executions();
    expect(fill!.time).toBeLessThan(NEW_YORK_MIDNIGHT);
    harness.sim.faults.advanceClock(45 * 60_000);
    const runsBefore = (await reconciliationRuns(harness, 1)).length;
    await harness.sim.faults.acceptConnections();

    const runs = await reconciliationRuns(harness, runsBefore + 1, 30_000);
    const reconnect = runs.find((run) => run.trigger === 'reconnect');
    expect(reconnect).toMatchObject({ ok: true });
    expect(ReconciliationMismatch.array().parse(reconnect!.mismatches)).toEqual([
      expect.objectContaining({ kind: 'execution_reconstructed', instrument: 'EURCAD' }),
    ]);
    const [stored] = await harness.database.db.selectFrom('executions').selectAll().execute();
    expect(stored).toMatchObject({
      quantity: '10000',
      reconstructed_from: 'order_status/order_average_fill_price',
    });
    expect(Number(stored!.price)).toBeCloseTo(fill!.price, 8);
    expect((await ordersOf(harness))[0]).toMatchObject({ filled_quantity: '10000' });
    expect(harness.sim.account.orders()[0]).toMatchObject({ status: 'Submitted', filled: 10_000 });
    expect(await service.reconcileNow('operator')).toMatchObject({ ok: true, mismatches: [] });
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');
  });
});
