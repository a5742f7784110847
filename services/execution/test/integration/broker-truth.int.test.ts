/**
 * Where the broker's view wins over ours: a trade no intent explains (another API client, a manual
 * trade) halts trading once and then counts in our books; an operator's modification is stored only once
 * the broker confirms it; a lease that is lost and won back resumes trading under the new epoch.
 */
import { type Contract, EventName, IBApi, OrderAction, OrderType, SecType } from '@stoqey/ib';
import { KV_KEYS, Lease } from '@ibstack/contracts';
import { createRegistry } from '@ibstack/observability';
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

const EURCAD: Contract = { symbol: 'EUR', currency: 'CAD', secType: SecType.CASH, exchange: 'IDEALPRO' };

/** Another API client on the same account (a second bot, or TWS itself) trading EUR.CAD. */
async function foreignTrade(harness: Harness, quantity: number): Promise<void> {
  const api = new IBApi({ host: '127.0.0.1', port: harness.sim.port });
  try {
    const nextId = new Promise<number>((resolve) => api.once(EventName.nextValidId, resolve));
    api.connect(77);
    const orderId = await nextId;
    const filled = new Promise<void>((resolve) =>
      api.on(EventName.orderStatus, (id: number, status: string) => {
        if (id === orderId && status === 'Filled') resolve();
      }),
    );
    api.placeOrder(orderId, EURCAD, {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: quantity,
      orderRef: 'manual',
      transmit: true,
    });
    await filled;
  } finally {
    api.disconnect();
  }
}

describe('execution takes the broker as the truth', () => {
  const scenario = inProcessScenario();

  it('halts once on a trade no intent explains, books it, and stays clean after an operator resumes', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService({ RECONCILE_INTERVAL_MS: '1500' });
    await reconciliationRuns(harness, 1);

    await foreignTrade(harness, 15_000);
    const halted = await eventually(
      async () => {
        const state = await tradingState(harness.bus);
        expect(state?.state).toBe('HALTED');
        return state!;
      },
      { timeoutMs: 15_000 },
    );
    expect(halted.reason).toMatch(/matches no intent/);
    const [failed] = await harness.database.db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('ok', '=', false)
      .execute();
    expect(failed!.mismatches).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'execution_unexplained', instrument: 'EURCAD' }),
      ]),
    );
    // The trade is in our books (so the position check agrees with the broker) ...
    const position = await harness.database.db.selectFrom('positions').selectAll().executeTakeFirstOrThrow();
    expect(position.quantity).toBe('15000');

    // ... and once an operator has looked and resumed, the next runs are clean and trading goes on.
    await sendControl(harness, { command: 'resume', reason: 'manual hedge, explained' });
    await eventually(async () => expect((await tradingState(harness.bus))?.state).toBe('RUNNING'));
    const before = (await reconciliationRuns(harness, 1)).length;
    const after = await reconciliationRuns(harness, before + 2);
    expect(after.slice(before).map((run) => run.ok)).toEqual(after.slice(before).map(() => true));
    expect((await tradingState(harness.bus))?.state).toBe('RUNNING');

    await publishIntent(harness.bus, intent({ side: 'SELL', quantity: '15000' }));
    await eventually(async () => expect((await ordersOf(harness)).at(-1)?.status).toBe('filled'));
  });

  it('keeps an order and its terms when the broker refuses a modification, and stores terms the broker confirms', async () => {
    const harness = await scenario.startHarness();
    const registry = createRegistry('execution', { defaultMetrics: false });
    await scenario.startService({}, registry);
    await reconciliationRuns(harness, 1);
    const quote = harness.sim.quote('EUR.CAD')!;
    // A buy limit far below the market rests.
    const resting = (Math.round((quote.bid * 0.9) / 0.00005) * 0.00005).toFixed(5);
    const value = intent({ orderType: 'LMT', limitPrice: resting, quantity: '20000', timeInForce: 'GTC' });
    await publishIntent(harness.bus, value);
    await eventually(async () => {
      const [order] = await ordersOf(harness);
      expect(`${order?.status} ${order?.error_text ?? ''}`).toBe('submitted ');
    });

    // Off the 0.00005 tick: IB refuses the modification (110) and the order lives on, unchanged.
    await sendControl(harness, {
      command: 'modify_order',
      intentId: value.intentId,
      limitPrice: (Number(resting) + 0.000013).toFixed(6),
    });
    await eventually(async () => {
      const refusals = (await registry.getSingleMetric('ib_api_errors_total')!.get()).values;
      expect(refusals.map((value) => value.labels.code)).toContain('110');
    });
    // The audit row is written when the modify has been handled, which can be after the 110 arrives.
    await eventually(async () => {
      const [audit] = await harness.database.db
        .selectFrom('audit_log')
        .select('detail')
        .where('action', '=', 'modify_order')
        .execute();
      expect(JSON.stringify(audit?.detail)).toMatch(/re-sent/);
    });
    const [unchanged] = await ordersOf(harness);
    expect(unchanged).toMatchObject({ status: 'submitted', quantity: '20000' });
    expect(Number(unchanged!.limit_price)).toBe(Number(resting));
    expect(harness.sim.account.orders()[0]).toMatchObject({ status: 'Submitted' });

    // A valid modification is stored once the broker's openOrder confirms it.
    const lower = (Number(resting) - 0.001).toFixed(5);
    await sendControl(harness, {
      command: 'modify_order',
      intentId: value.intentId,
      limitPrice: lower,
      quantity: '25000',
    });
    await eventually(async () => {
      const [order] = await ordersOf(harness);
      expect(order).toMatchObject({ status: 'submitted', quantity: '25000', remaining_quantity: '25000' });
      expect(Number(order!.limit_price)).toBe(Number(lower));
    });
    expect(harness.sim.account.orders()).toHaveLength(1);
  });

  it('stops sending when the lease is lost and trades again under a new epoch once it wins it back', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService();
    await reconciliationRuns(harness, 1);
    await publishIntent(harness.bus, intent());
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('filled'));
    const firstEpoch = Number((await ordersOf(harness))[0]!.leader_epoch);

    // The lease key vanishes (a KV purge, an operator's mistake): the holder's next renewal fails.
    const leases = await harness.bus.kv('leases', Lease, { ttlMs: 1500 });
    expect(await leases.delete(KV_KEYS.executionLease)).toBe(true);
    await eventually(() => expect(service.isLeader()).toBe(false), { timeoutMs: 10_000 });
    await eventually(() => expect(service.isLeader()).toBe(true), { timeoutMs: 15_000 });

    await publishIntent(harness.bus, intent({ side: 'SELL' }));
    await eventually(
      async () =>
        expect((await ordersOf(harness)).map((order) => order.status)).toEqual(['filled', 'filled']),
      { timeoutMs: 20_000 },
    );
    const secondEpoch = Number((await ordersOf(harness))[1]!.leader_epoch);
    expect(secondEpoch).toBeGreaterThan(firstEpoch);
    expect(harness.sim.account.orders()).toHaveLength(2);
  });
});
