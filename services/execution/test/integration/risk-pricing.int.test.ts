/**
 * Execution's risk check does not trust the strategy's numbers: orders are sized at execution's own
 * fresh market price (ticks on NATS) or their limit price where that is further out, converted with the
 * configured FX rates; no fresh price, no order; the order rate is per account. And every send path
 * checks again: an operator's modify cannot raise a quantity while HALTED or REDUCING.
 */
import { eventually } from '@ibstack/test-kit';

import type {} from '../../src/service';
import {
  intent,
  ordersOf,
  publishIntent,
  reconciliationRuns,
  sendControl,
  setTradingState,
  inProcessScenario,
} from './harness';

describe('execution risk on its own prices', () => {
  const scenario = inProcessScenario();

  const start = async (env: Record<string, string>) => {
    await scenario.start({}, env);
    await reconciliationRuns(scenario.harness, 1);
  };
  const settled = (count: number) =>
    eventually(async () => {
      const orders = await ordersOf(scenario.harness);
      expect(orders).toHaveLength(count);
      expect(orders.every((order) => order.status !== 'pending')).toBe(true);
      return orders;
    });

  it("sizes an order at its own market price, not the intent's reference price", async () => {
    // 20,000 EUR.CAD at ~1.48 CAD is ~21,000 USD: over a 10,000 USD order limit whatever the intent says.
    await start({ RISK_LIMITS_JSON: JSON.stringify({ maxOrderNotionalUsd: 10_000 }) });
    await publishIntent(scenario.harness.bus, intent({ referencePrice: '0.0001' }));
    const [order] = await settled(1);
    expect(order).toMatchObject({ status: 'rejected' });
    expect(order!.error_text).toMatch(/max_order_notional/);
    expect(scenario.harness.sim.account.orders()).toHaveLength(0);
  });

  it('sizes a limit order at its limit price where that is further out than the market', async () => {
    await start({ RISK_LIMITS_JSON: JSON.stringify({ maxOrderNotionalUsd: 30_000 }) });
    // At the market (~21,000 USD) it would pass; at its limit of 3.0 (~43,000 USD) it does not.
    await publishIntent(scenario.harness.bus, intent({ orderType: 'LMT', limitPrice: '3.0' }));
    await publishIntent(scenario.harness.bus, intent({ orderType: 'MKT' }));
    await eventually(async () =>
      expect((await ordersOf(scenario.harness)).map((order) => order.status)).toEqual(['rejected', 'filled']),
    );
    expect((await ordersOf(scenario.harness))[0]!.error_text).toMatch(/max_order_notional/);
  });

  it('converts with the configured FX rates', async () => {
    // At 2 USD per CAD, 20,000 EUR.CAD at ~1.48 is ~59,000 USD: over the default 50,000 USD order limit.
    await start({ FX_RATES_TO_USD_JSON: JSON.stringify({ CAD: '2' }) });
    await publishIntent(scenario.harness.bus, intent());
    const [order] = await settled(1);
    expect(order!.status).toBe('rejected');
    expect(order!.error_text).toMatch(/max_order_notional/);
  });

  it('refuses an order on an instrument without a fresh price', async () => {
    // USD.JPY resolves at the gateway, but no tick of it is on NATS.
    await start({ INSTRUMENTS: 'EUR.CAD,USD.JPY' });
    await publishIntent(
      scenario.harness.bus,
      intent({ instrument: 'USDJPY', quantity: '1000', referencePrice: '150' }),
    );
    const [order] = await settled(1);
    expect(order!.status).toBe('rejected');
    expect(order!.error_text).toMatch(/no fresh market price for USDJPY/);
    expect(scenario.harness.sim.account.orders()).toHaveLength(0);
  });

  it('counts working buys and sells apart: a working sell makes no room for more buys', async () => {
    // 20,000 EUR.CAD is ~21,000 USD (the resting sell is valued at its limit of 2.0: ~29,000 USD, within the
    // limit). A resting buy and a resting sell of 20,000 each: netted they look flat,
    // so a further buy of 20,000 would pass; but if the buys fill and the sell does not, the account is
    // long 40,000 (~42,000 USD), over the 35,000 USD position limit.
    await start({ RISK_LIMITS_JSON: JSON.stringify({ maxPositionUsd: 35_000 }) });
    await publishIntent(scenario.harness.bus, intent({ orderType: 'LMT', limitPrice: '1.0' }));
    await publishIntent(scenario.harness.bus, intent({ side: 'SELL', orderType: 'LMT', limitPrice: '2.0' }));
    await eventually(async () =>
      expect((await ordersOf(scenario.harness)).map((order) => order.status)).toEqual([
        'submitted',
        'submitted',
      ]),
    );
    await publishIntent(scenario.harness.bus, intent({ orderType: 'MKT' }));
    const orders = await settled(3);
    expect(orders[2]).toMatchObject({ status: 'rejected' });
    expect(orders[2]!.error_text).toMatch(/max_position/);
    // A smaller buy still fits: long 30,000 (~32,000 USD) at worst.
    await publishIntent(scenario.harness.bus, intent({ orderType: 'MKT', quantity: '10000' }));
    await eventually(async () => expect((await ordersOf(scenario.harness))[3]?.status).toBe('filled'));
  });

  it('limits the order rate per account, not per sleeve', async () => {
    await start({ RISK_LIMITS_JSON: JSON.stringify({ maxOrdersPerMinute: 2 }) });
    for (const sleeve of ['one', 'two', 'three'])
      await publishIntent(scenario.harness.bus, intent({ sleeve, quantity: '1000' }));
    await eventually(async () =>
      expect((await ordersOf(scenario.harness)).map((order) => order.status)).toEqual([
        'filled',
        'filled',
        'rejected',
      ]),
    );
    expect((await ordersOf(scenario.harness))[2]!.error_text).toMatch(/max_orders_per_minute/);
  });

  it.each(['HALTED', 'REDUCING'] as const)(
    "refuses an operator's modify that raises a quantity while %s",
    async (state) => {
      await start({});
      const resting = intent({ orderType: 'LMT', limitPrice: '1.0001', quantity: '10000' });
      await publishIntent(scenario.harness.bus, resting);
      const [working] = await eventually(async () => {
        const orders = await ordersOf(scenario.harness);
        expect(orders[0]?.status).toBe('submitted');
        return orders;
      });
      await setTradingState(scenario.harness, state);
      await sendControl(scenario.harness, {
        command: 'modify_order',
        intentId: resting.intentId,
        quantity: '40000',
      });
      const audit = await eventually(async () => {
        const row = await scenario.harness.database.db
          .selectFrom('audit_log')
          .selectAll()
          .where('action', '=', 'modify_order')
          .executeTakeFirst();
        expect(row).toBeDefined();
        return row!;
      });
      expect(JSON.stringify(audit.detail)).toMatch(new RegExp(`not modified: risk: .*${state}`));
      const atBroker = scenario.harness.sim.account
        .orders()
        .find((order) => order.orderId === working!.broker_order_id);
      expect(atBroker?.totalQuantity).toBe(10_000);
    },
  );
});
