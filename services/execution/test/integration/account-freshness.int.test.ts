/**
 * The loss and drawdown rules hold from the first order after a start: execution asks the broker for the
 * account's value before it takes intents, refuses orders that add exposure while it has no value or only
 * one older than ACCOUNT_MAX_AGE_MS (by the broker's time, never re-stamped), and still lets orders that
 * shrink a position go.
 */
import { tradingDayStart } from '@ibstack/risk';
import { eventually, runningClockFrom } from '@ibstack/test-kit';

import type {} from '../../src/service';
import { intent, ordersOf, publishIntent, inProcessScenario, reconciliationRuns } from './harness';

/** 10:00 New York, mid trading day: far from the 17:00 roll, midnight and the weekend. */
const WEDNESDAY_MORNING = '2026-11-25T15:00:00.000Z';

describe('execution loss rules from the first order', () => {
  const scenario = inProcessScenario();

  const statuses = (expected: string[]) =>
    eventually(
      async () => {
        const orders = await ordersOf(scenario.harness);
        expect(orders.map((order) => order.status)).toEqual(expected);
        return orders;
      },
      { timeoutMs: 20_000 },
    );

  it('refuses the first order after a start when the broker already shows the daily loss past its limit', async () => {
    // Execution's clock is pinned to a Wednesday morning in New York: on the wall clock, a run that
    // crossed the 17:00 New York roll between the snapshot below and execution's first one saw a new
    // trading day with no loss on it, and the order filled.
    const clock = runningClockFrom(WEDNESDAY_MORNING);
    const harness = await scenario.startHarness({ startTime: WEDNESDAY_MORNING }, {}, clock);
    // Earlier today (a previous run) the account was worth 1,000,000; since then the broker booked a
    // 50,000 loss: -5 % on the day, past the default 2 % limit.
    const earlierToday = clock() - 60_000;
    expect(tradingDayStart(earlierToday)).toBe(tradingDayStart(clock() + 60_000));
    await harness.database.db
      .insertInto('account_snapshots')
      .values({
        account: 'DU1234567',
        currency: 'USD',
        ts: new Date(earlierToday),
        net_liquidation: '1000000',
        cash: '1000000',
        realized_pnl: '0',
        unrealized_pnl: '0',
        daily_pnl: '0',
        daily_return_pct: '0',
        high_water_mark: '1000000',
        drawdown_pct: '0',
        raw: null,
      })
      .execute();
    harness.sim.faults.adjustCash('USD', -50_000);
    // Waiting in the stream before execution starts: the very first order it handles. The periodic
    // snapshot is a minute away, so only the value asked for at start can judge it.
    await publishIntent(harness.bus, intent({ createdAt: new Date(clock()).toISOString() }));
    await scenario.startService({ ACCOUNT_SNAPSHOT_INTERVAL_MS: '60000' });
    const [order] = await statuses(['rejected']);
    expect(order!.error_text).toMatch(/max_daily_loss: daily return -5% reaches the loss limit of 2%/);
    expect(harness.sim.account.orders()).toHaveLength(0);
  });

  it('judges the first order after the broker link comes back by the account value the broker sends then', async () => {
    const clock = runningClockFrom(WEDNESDAY_MORNING);
    const harness = await scenario.startHarness({ startTime: WEDNESDAY_MORNING }, {}, clock);
    // The loss is booked as a fee, which the cash check would halt on: tolerated here, so the loss rule judges.
    await scenario.startService({
      ACCOUNT_SNAPSHOT_INTERVAL_MS: '60000',
      RECONCILE_CASH_TOLERANCE: '100000',
    });
    await reconciliationRuns(harness, 1);
    // The gateway loses IB (its daily reset, say); meanwhile the account books a 50,000 loss (-5 % on the
    // day, past the default 2 % limit), which reaches us only with the download asked for once it is back.
    harness.sim.faults.stallAccountUpdates(true);
    harness.sim.faults.brokerLink({ up: false });
    harness.sim.faults.adjustCash('USD', -50_000);
    harness.sim.faults.brokerLink({ up: true });
    // An intent right after 1102, while the download is on its way.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await publishIntent(harness.bus, intent({ createdAt: new Date(clock()).toISOString() }));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    harness.sim.faults.stallAccountUpdates(false);
    const [order] = await statuses(['rejected']);
    expect(order!.error_text).toMatch(/max_daily_loss: daily return -5% reaches the loss limit of 2%/);
    expect(harness.sim.account.orders()).toHaveLength(0);
  });

  it('takes no order that adds exposure until the broker has sent the account value', async () => {
    const harness = await scenario.startHarness();
    harness.sim.faults.stallAccountUpdates(true);
    await publishIntent(harness.bus, intent());
    await scenario.startService({ RECONCILE_READ_TIMEOUT_MS: '2000' });
    const [refused] = await statuses(['rejected']);
    expect(refused!.error_text).toMatch(/account_unknown: no account snapshot yet/);
    expect(harness.sim.account.orders()).toHaveLength(0);
    // The values arrive: orders go again.
    harness.sim.faults.stallAccountUpdates(false);
    await eventually(async () => {
      const rows = await harness.database.db.selectFrom('account_snapshots').select('id').execute();
      expect(rows.length).toBeGreaterThan(0);
    });
    await publishIntent(harness.bus, intent());
    await statuses(['rejected', 'filled']);
  });

  it('blocks new exposure on a snapshot older than its limit, never re-stamping it, and lets a reducing order go', async () => {
    const harness = await scenario.startHarness();
    const maxAgeMs = 6_000;
    await scenario.startService({
      ACCOUNT_MAX_AGE_MS: String(maxAgeMs),
      ACCOUNT_SNAPSHOT_INTERVAL_MS: '200',
    });
    await publishIntent(harness.bus, intent({ quantity: '20000' }));
    await statuses(['filled']);

    harness.sim.faults.stallAccountUpdates(true);
    const stalledAt = Date.now();
    // Snapshots keep their broker time: the newest one ages past the limit (re-stamped, it never would).
    const newest = async () =>
      (
        await harness.database.db
          .selectFrom('account_snapshots')
          .select((eb) => eb.fn.max('ts').as('ts'))
          .executeTakeFirstOrThrow()
      ).ts;
    await eventually(
      async () => {
        expect(Date.now() - (await newest()).getTime()).toBeGreaterThan(maxAgeMs + 500);
      },
      { timeoutMs: 20_000 },
    );
    expect((await newest()).getTime()).toBeLessThanOrEqual(stalledAt + 1_000);

    await publishIntent(harness.bus, intent({ quantity: '10000' }));
    const orders = await statuses(['filled', 'rejected']);
    expect(orders[1]!.error_text).toMatch(/account_unknown: account snapshot is \d+ s old .*limit 6 s/);
    // Getting out stays possible.
    await publishIntent(harness.bus, intent({ side: 'SELL', quantity: '20000' }));
    await statuses(['filled', 'rejected', 'filled']);

    harness.sim.faults.stallAccountUpdates(false);
    await eventually(async () => expect(Date.now() - (await newest()).getTime()).toBeLessThan(maxAgeMs));
    await publishIntent(harness.bus, intent({ quantity: '10000' }));
    await statuses(['filled', 'rejected', 'filled', 'filled']);
  });
});
