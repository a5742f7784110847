/**
 * Things done at the broker that we did not do, seen by the identity we recorded for each order (broker
 * order id with client id, perm id) rather than by orderRef: a second order carrying one of our intent
 * ids is a duplicate (its own row, its fills never ours), and a change of our order made in TWS is
 * recorded, audited and reported. Both halt trading through reconciliation.
 */
import { eventually } from '@ibstack/test-kit';

import type {} from '../../src/service';
import {
  type Harness,
  intent,
  ordersOf,
  publishIntent,
  reconciliationRuns,
  sendControl,
  tradingState,
  inProcessScenario,
} from './harness';

/** A GTC buy limit 10 % below the market, which rests; resolves with its stored row once submitted. */
async function restingOrder(harness: Harness, quantity = '20000') {
  const quote = harness.sim.quote('EUR.CAD')!;
  const limitPrice = (Math.round((quote.bid * 0.9) / 0.00005) * 0.00005).toFixed(5);
  const value = intent({ orderType: 'LMT', limitPrice, quantity, timeInForce: 'GTC' });
  await publishIntent(harness.bus, value);
  const order = await eventually(async () => {
    const row = (await ordersOf(harness)).find((order) => order.intent_id === value.intentId);
    expect(row?.status).toBe('submitted');
    expect(row?.perm_id).not.toBeNull();
    return row!;
  });
  return { value, order, limitPrice };
}

describe('execution sees what was done at the broker in its name', () => {
  const scenario = inProcessScenario();

  it('records a second broker order carrying our intent id as a duplicate, never as ours, and halts', async () => {
    const harness = await scenario.startHarness();
    // Our resting order must stay working through the halt here (a halt cancels it by default).
    const service = await scenario.startService({ RECONCILIATION_HALT_CANCELS_ORDERS: 'false' });
    await reconciliationRuns(harness, 1);
    const { value, order: ours } = await restingOrder(harness);

    // Someone places two orders by hand in TWS carrying our intent id: one rests, one fills at once.
    const far = (Number(harness.sim.quote('EUR.CAD')!.bid) * 0.8).toFixed(4);
    harness.sim.faults.placeManualOrder({
      orderRef: value.intentId,
      instrument: 'EUR.CAD',
      side: 'BUY',
      quantity: 30_000,
      orderType: 'LMT',
      limitPrice: Number(far),
    });
    const filled = harness.sim.faults.placeManualOrder({
      orderRef: value.intentId,
      instrument: 'EUR.CAD',
      side: 'BUY',
      quantity: 15_000,
    });
    await eventually(() =>
      expect(harness.sim.account.executions().filter((x) => x.permId === filled.permId)).not.toEqual([]),
    );

    const result = await service.reconcileNow('operator');
    expect(result?.ok).toBe(false);
    const duplicates = result!.mismatches.filter((mismatch) => mismatch.kind === 'duplicate_order');
    expect(duplicates).toHaveLength(2);
    expect(duplicates[0]!.detail).toContain(value.intentId);
    const halted = await eventually(async () => {
      const state = await tradingState(harness.bus);
      expect(state?.state).toBe('HALTED');
      return state!;
    });
    expect(halted.reason).toMatch(/duplicate/);

    // Our order keeps its identity, terms and (empty) fills; the duplicates have rows of their own.
    const orders = await ordersOf(harness);
    const mine = orders.find((order) => order.id === ours.id)!;
    expect(mine).toMatchObject({
      perm_id: ours.perm_id,
      quantity: '20000',
      filled_quantity: '0',
      status: 'submitted',
    });
    const copies = orders.filter((order) => order.duplicate_of !== null);
    expect(copies.map((copy) => [Number(copy.duplicate_of), copy.intent_id, copy.quantity]).sort()).toEqual(
      [
        [Number(ours.id), null, '15000'],
        [Number(ours.id), null, '30000'],
      ].sort(),
    );
    // The duplicate's fill is in the books (positions follow the broker) but never under our intent.
    const fills = await harness.database.db.selectFrom('executions').selectAll().execute();
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ intent_id: null });
    expect(Number(fills[0]!.order_id)).toBe(Number(copies.find((copy) => copy.quantity === '15000')!.id));
    const position = await harness.database.db.selectFrom('positions').selectAll().executeTakeFirstOrThrow();
    expect(position.quantity).toBe('15000');
    const audits = await harness.database.db
      .selectFrom('audit_log')
      .select(['action', 'detail'])
      .where('action', '=', 'duplicate_order')
      .execute();
    expect(audits).toHaveLength(2);

    // Reported once: after an operator has looked and resumed, the next run is clean.
    await sendControl(harness, { command: 'resume', reason: 'duplicates cancelled by hand' });
    await eventually(async () => expect((await tradingState(harness.bus))?.state).toBe('RUNNING'));
    expect((await service.reconcileNow('operator'))?.ok).toBe(true);
  });

  it('settles an order placed by hand in TWS once it is done at the broker, so a resume after its fill stays running', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService();
    await reconciliationRuns(harness, 1);

    // Someone rests a buy limit in TWS (client 0, no orderRef): adopted and reported once, then resumed.
    const quote = harness.sim.quote('EUR.CAD')!;
    const manual = harness.sim.faults.placeManualOrder({
      orderRef: '',
      instrument: 'EUR.CAD',
      side: 'BUY',
      quantity: 30_000,
      orderType: 'LMT',
      limitPrice: Number((Math.round((quote.bid * 0.9) / 0.00005) * 0.00005).toFixed(5)),
    });
    const adopted = await service.reconcileNow('operator');
    expect(adopted?.mismatches.map((mismatch) => mismatch.kind)).toEqual(['open_order_unknown_locally']);
    await sendControl(harness, { command: 'resume', reason: 'a manual order, looked at' });
    await eventually(async () => expect((await tradingState(harness.bus))?.state).toBe('RUNNING'));
    expect((await service.reconcileNow('operator'))?.ok).toBe(true);

    // It fills at the broker (its limit raised in TWS): the fill is a trade no intent explains, reported once.
    harness.sim.faults.modifyOrder(0, manual.orderId, {
      limitPrice: Number((Math.round((quote.ask * 1.1) / 0.00005) * 0.00005).toFixed(5)),
    });
    await eventually(() =>
      expect(harness.sim.account.executions().filter((x) => x.permId === manual.permId)).not.toEqual([]),
    );
    const filled = await service.reconcileNow('operator');
    expect(filled?.mismatches.map((mismatch) => mismatch.kind)).toEqual(['execution_unexplained']);
    const [row] = (await ordersOf(harness)).filter((order) => Number(order.perm_id) === manual.permId);
    expect(row).toMatchObject({ status: 'filled', filled_quantity: '30000', remaining_quantity: '0' });

    // After the operator resumes, the books agree: the order is no longer working on either side.
    await sendControl(harness, { command: 'resume', reason: 'the manual fill, looked at' });
    await eventually(async () => expect((await tradingState(harness.bus))?.state).toBe('RUNNING'));
    const after = await service.reconcileNow('operator');
    expect(after?.mismatches).toEqual([]);
    expect((await tradingState(harness.bus))?.state).toBe('RUNNING');
  });

  it('reports a change of our order made at the broker, and takes an operator change it asked for', async () => {
    const harness = await scenario.startHarness();
    // Our resting order must stay working through the halt here (a halt cancels it by default).
    const service = await scenario.startService({ RECONCILIATION_HALT_CANCELS_ORDERS: 'false' });
    await reconciliationRuns(harness, 1);
    const { value, order, limitPrice } = await restingOrder(harness);

    // A change the operator asked for is confirmed by the broker and is no mismatch.
    const lower = (Number(limitPrice) - 0.001).toFixed(5);
    await sendControl(harness, { command: 'modify_order', intentId: value.intentId, limitPrice: lower });
    await eventually(async () => {
      const [row] = await ordersOf(harness);
      expect(Number(row!.limit_price)).toBe(Number(lower));
    });
    expect((await service.reconcileNow('operator'))?.ok).toBe(true);

    // Someone changes the quantity in TWS: the broker's terms are stored, audited, reported, and trading halts.
    harness.sim.faults.modifyOrder(10, order.broker_order_id!, { quantity: 35_000 });
    const halted = await eventually(
      async () => {
        const state = await tradingState(harness.bus);
        expect(state?.state).toBe('HALTED');
        return state!;
      },
      { timeoutMs: 15_000 },
    );
    expect(halted.reason).toMatch(/changed at the broker/);
    const [row] = await ordersOf(harness);
    expect(row).toMatchObject({ quantity: '35000', remaining_quantity: '35000' });
    // Marked reported only once the halt is written, so a moment after the halt.
    await eventually(async () => {
      const amendments = await harness.database.db
        .selectFrom('order_amendments')
        .select(['origin', 'quantity', 'previous_quantity', 'confirmed_at', 'flagged_at'])
        .orderBy('id')
        .execute();
      expect(
        amendments.map((a) => [a.origin, a.quantity, a.confirmed_at !== null, a.flagged_at !== null]),
      ).toEqual([
        ['operator', '20000', true, false],
        ['broker', '35000', false, true],
      ]);
    });
    const [audit] = await harness.database.db
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'order_modified_at_broker')
      .execute();
    expect(JSON.stringify(audit?.detail)).toContain('35000');
    const [failed] = await harness.database.db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('ok', '=', false)
      .execute();
    const mismatches = failed!.mismatches as Array<{ kind: string; local?: string }>;
    expect(mismatches.map((mismatch) => mismatch.kind)).toEqual(['order_modified_at_broker']);
    expect(mismatches[0]!.local).toContain('20000');
  });
});
