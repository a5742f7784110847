/**
 * Halts that are not lost: the trading state lives in NATS and Postgres and is read failing closed, a
 * halt is written before its cause is marked as reported, and a halt can cancel working orders (a
 * reconciliation halt does by default; the CLI's `halt --cancel-orders`).
 */
import { join } from 'node:path';

import { KV_KEYS, TradingState } from '@ibstack/contracts';
import { DurableTradingState } from '@ibstack/operator';
import { eventually, spawnTs } from '@ibstack/test-kit';

import type {} from '../../src/service';
import { intent, ordersOf, publishIntent, reconciliationRuns, inProcessScenario } from './harness';

const CLI = join(__dirname, '..', '..', '..', '..', 'packages', 'stack', 'src', 'cli', 'ibstack.ts');

describe('halting', () => {
  const scenario = inProcessScenario();

  const durable = () =>
    new DurableTradingState({ bus: scenario.harness.bus, db: scenario.harness.database.db });
  const tradingStream = () => `KV_${scenario.harness.bus.namespace.bucket('trading')}`;
  const foreignFill = () =>
    scenario.harness.sim.faults.placeManualOrder({
      orderRef: 'tws',
      instrument: 'EUR.CAD',
      side: 'BUY',
      quantity: 5_000,
    });
  /** Our stored executions: in these tests only the foreign fill, stored by reconciliation. */
  const flaggedExecutions = async () =>
    scenario.harness.database.db.selectFrom('executions').select(['exec_id', 'flagged_at']).execute();

  it('does not read a trading-state key lost from NATS as RUNNING: the halt in Postgres holds and is put back', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    await durable().halt('operator: broker maintenance', 'alice');
    // NATS loses the key (a purge, a bucket recreated empty).
    const kv = await harness.bus.kv('trading', TradingState, { history: 10 });
    await kv.raw.purge(KV_KEYS.tradingState);

    const refused = intent();
    await publishIntent(harness.bus, refused);
    const [order] = await eventually(async () => {
      const orders = await ordersOf(harness);
      expect(orders).toHaveLength(1);
      return orders;
    });
    expect(order).toMatchObject({ intent_id: refused.intentId, status: 'rejected' });
    expect(order!.error_text).toMatch(/HALTED/);
    expect(harness.sim.account.orders()).toHaveLength(0);
    // Put back from Postgres, so every reader sees the halt again.
    expect((await kv.get(KV_KEYS.tradingState))?.value).toMatchObject({ state: 'HALTED', by: 'alice' });
  }, 60_000);

  it('reads HALTED when NATS and Postgres disagree, so a resume written to one place only does not resume', async () => {
    const harness = await scenario.startHarness();
    await durable().halt('operator: check fills', 'alice');
    const kv = await harness.bus.kv('trading', TradingState, { history: 10 });
    await kv.put(KV_KEYS.tradingState, {
      v: 1,
      state: 'RUNNING',
      reason: 'a resume Postgres never got',
      by: 'bob',
      at: new Date().toISOString(),
    });
    expect((await durable().get()).state).toBe('HALTED');
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    const refused = intent();
    await publishIntent(harness.bus, refused);
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('rejected'));
    expect(harness.sim.account.orders()).toHaveLength(0);
  }, 60_000);

  it('writes the halt before flagging its cause: a halt that could not be written is reported again by the next run', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService();
    await reconciliationRuns(harness, 1);
    foreignFill();
    await eventually(() => expect(harness.sim.account.executions()).toHaveLength(1));

    // NATS loses the trading bucket: the halt cannot be written there.
    await harness.bus.jsm.streams.delete(tradingStream());
    await expect(service.reconcileNow()).rejects.toThrow();
    // The unexplained trade is stored but not marked as reported ...
    expect(await flaggedExecutions()).toEqual([expect.objectContaining({ flagged_at: null })]);
    // ... and the halt that reached Postgres is in force meanwhile (NATS unreadable counts as HALTED).
    expect((await durable().get()).state).toBe('HALTED');

    // NATS is back (the bucket recreated empty): the next run finds the trade again and halts everywhere.
    await harness.bus.kv('trading', TradingState, { history: 10 });
    const rerun = await service.reconcileNow();
    expect(rerun?.ok).toBe(false);
    expect(rerun?.mismatches.map((mismatch) => mismatch.kind)).toContain('execution_unexplained');
    const reading = await durable().read();
    expect(reading.nats?.value.state).toBe('HALTED');
    expect(reading.postgres?.state).toBe('HALTED');
    expect((await flaggedExecutions())[0]?.flagged_at).not.toBeNull();
  }, 120_000);

  it('cancels our working orders when reconciliation halts, and audits which', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService();
    await reconciliationRuns(harness, 1);
    const resting = intent({ orderType: 'LMT', limitPrice: '1.0001', quantity: '10000' });
    await publishIntent(harness.bus, resting);
    const working = await eventually(async () => {
      const [order] = await ordersOf(harness);
      expect(order?.status).toBe('submitted');
      return order!;
    });

    foreignFill();
    await eventually(() => expect(harness.sim.account.executions()).toHaveLength(1));
    const result = await service.reconcileNow();
    expect(result?.ok).toBe(false);
    await eventually(async () => {
      expect(harness.sim.account.orders().find((order) => order.orderRef === resting.intentId)?.status).toBe(
        'Cancelled',
      );
      expect((await ordersOf(harness))[0]?.status).toBe('cancelled');
    });
    const audit = await harness.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'halt')
      .executeTakeFirstOrThrow();
    expect(audit.detail).toMatchObject({ cancelledOrders: [working.broker_order_id] });
  }, 60_000);

  it('leaves working orders alone on a reconciliation halt when RECONCILIATION_HALT_CANCELS_ORDERS=false', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService({ RECONCILIATION_HALT_CANCELS_ORDERS: 'false' });
    await reconciliationRuns(harness, 1);
    const resting = intent({ orderType: 'LMT', limitPrice: '1.0001', quantity: '10000' });
    await publishIntent(harness.bus, resting);
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('submitted'));
    foreignFill();
    await eventually(() => expect(harness.sim.account.executions()).toHaveLength(1));
    expect((await service.reconcileNow())?.ok).toBe(false);
    // The halt's audit row is written after any cancel would have been sent: a barrier, not a sleep.
    const audit = await harness.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'halt')
      .executeTakeFirstOrThrow();
    expect(audit.detail).not.toHaveProperty('cancelledOrders');
    expect(harness.sim.account.orders().find((order) => order.orderRef === resting.intentId)?.status).toBe(
      'Submitted',
    );
  }, 60_000);

  it('`halt --cancel-orders` halts and has execution cancel every working order, audited', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    const resting = intent({ orderType: 'LMT', limitPrice: '1.0001', quantity: '10000' });
    await publishIntent(harness.bus, resting);
    const working = await eventually(async () => {
      const [order] = await ordersOf(harness);
      expect(order?.status).toBe('submitted');
      return order!;
    });

    const cli = spawnTs(CLI, ['halt', '--cancel-orders', 'runaway strategy'], {
      DATABASE_URL: harness.env.DATABASE_URL!,
      NATS_URL: harness.env.NATS_URL!,
      BUS_NAMESPACE: harness.env.BUS_NAMESPACE!,
      IBSTACK_OPERATOR: 'alice',
    });
    const { code } = await cli.exited;
    expect(code).toBe(0);
    expect((await durable().get()).state).toBe('HALTED');
    await eventually(async () => {
      expect(harness.sim.account.orders().find((order) => order.orderRef === resting.intentId)?.status).toBe(
        'Cancelled',
      );
      const audit = await harness.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'cancel_working_orders')
        .executeTakeFirst();
      expect(audit).toMatchObject({ actor: 'alice' });
      expect(JSON.stringify(audit!.detail)).toContain(String(working.broker_order_id));
    });
  }, 60_000);
});
