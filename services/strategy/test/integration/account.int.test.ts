import { type AccountSnapshot, deterministicId, subjects, SystemEvent, topics } from '@ibstack/contracts';
import { eventually } from '@ibstack/test-kit';

import { flatBars } from '../bars';
import { openWorld, sleevesFile, T0, type World } from './world';

function snapshot(minute: number, overrides: Partial<AccountSnapshot> = {}): AccountSnapshot {
  return {
    v: 1,
    account: 'DU1234567',
    currency: 'USD',
    netLiquidation: '880000',
    cash: '880000',
    realizedPnl: '0',
    unrealizedPnl: '0',
    dailyPnl: '0',
    dailyReturnPct: '0',
    highWaterMark: '1000000',
    drawdownPct: '0',
    ts: new Date(Date.parse(T0) - 60 * 60_000 + minute * 60_000).toISOString(),
    ...overrides,
  };
}

describe('account-level risk', () => {
  let world: World;
  beforeEach(async () => {
    world = await openWorld();
  });
  afterEach(() => world.close());

  it('switches trading to REDUCING once per crossing of the drawdown threshold, starting from the stored snapshot', async () => {
    const stored = snapshot(0, { drawdownPct: '12' });
    await world.db.db
      .insertInto('account_snapshots')
      .values({
        account: stored.account,
        currency: stored.currency,
        ts: stored.ts,
        net_liquidation: stored.netLiquidation,
        cash: stored.cash,
        realized_pnl: '0',
        unrealized_pnl: '0',
        daily_pnl: '0',
        daily_return_pct: '0',
        high_water_mark: stored.highWaterMark,
        drawdown_pct: stored.drawdownPct,
      })
      .execute();
    const { registry } = await world.start(sleevesFile([{ name: 'acct', strategy: 'scripted' }]));

    await eventually(async () =>
      expect(await world.tradingState()).toMatchObject({
        state: 'REDUCING',
        by: 'strategy:risk',
        reason: 'drawdown 12% reached 10%',
      }),
    );
    expect(await world.metric(registry, 'strategy_account_snapshot_unix')).toBe(
      Date.parse(snapshot(0).ts) / 1000,
    );
    const audit = await world.db.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'trading_state_changed')
      .executeTakeFirstOrThrow();
    expect(audit.detail).toMatchObject({ from: 'RUNNING', to: 'REDUCING' });
    const events = await eventually(async () => {
      const found = (await world.streamMessages('SYS', subjects.systemEvent('strategy'))).map((m) =>
        SystemEvent.parse(m.data),
      );
      expect(found.map((e) => e.code)).toEqual(['drawdown_warning', 'drawdown_reducing']);
      return found;
    });
    expect(events[1]!.severity).toBe('critical');

    // An operator resumes while drawdown is still past the threshold: not overruled.
    await world.setTradingState('RUNNING', 'operator:alice');
    await world.bus.publish(topics.accountSnapshot, snapshot(1, { drawdownPct: '12.5' }));
    await eventually(async () =>
      expect(await world.metric(registry, 'strategy_account_snapshot_unix')).toBe(
        Date.parse(snapshot(1).ts) / 1000,
      ),
    );
    expect(await world.tradingState()).toMatchObject({ state: 'RUNNING', by: 'operator:alice' });

    // Drawdown recovers, then crosses again: REDUCING again.
    await world.bus.publish(topics.accountSnapshot, snapshot(2, { drawdownPct: '4' }));
    await world.bus.publish(topics.accountSnapshot, snapshot(3, { drawdownPct: '10' }));
    await eventually(async () =>
      expect(await world.tradingState()).toMatchObject({ state: 'REDUCING', by: 'strategy:risk' }),
    );
  });

  it('warns once per trading day while drawdown hovers at the warning threshold', async () => {
    const { registry } = await world.start(sleevesFile([{ name: 'hover', strategy: 'scripted' }]));
    const nextDay = '2026-11-24T22:05:00.000Z'; // past 17:00 New York: the next trading day
    const hovering = [
      snapshot(0, { drawdownPct: '5.1' }),
      snapshot(3, { drawdownPct: '4.9' }),
      snapshot(6, { drawdownPct: '5.05' }),
      snapshot(9, { drawdownPct: '4.95' }),
      snapshot(12, { drawdownPct: '5.2' }),
      snapshot(15, { drawdownPct: '4.8' }),
      snapshot(0, { drawdownPct: '5.1', ts: nextDay }),
    ];
    for (const each of hovering) await world.bus.publish(topics.accountSnapshot, each);
    // The barrier: the last snapshot has been taken, so every one before it has been judged.
    await eventually(async () =>
      expect(await world.metric(registry, 'strategy_account_snapshot_unix')).toBe(Date.parse(nextDay) / 1000),
    );
    const warnings = (await world.streamMessages('SYS', subjects.systemEvent('strategy')))
      .map((m) => SystemEvent.parse(m.data))
      .filter((e) => e.code === 'drawdown_warning');
    // Each warning's id names the snapshot that raised it.
    expect(warnings.map((e) => e.eventId)).toEqual(
      [hovering[0]!.ts, nextDay].map((ts) => deterministicId('drawdown_warning', ts)),
    );
    expect(await world.tradingState()).toBeNull();
  });

  it('leaves a HALTED account HALTED however deep the drawdown', async () => {
    await world.setTradingState('HALTED', 'operator:bob');
    const { registry } = await world.start(sleevesFile([{ name: 'halted', strategy: 'scripted' }]));
    await world.bus.publish(topics.accountSnapshot, snapshot(0, { drawdownPct: '11' }));
    await eventually(async () =>
      expect(await world.metric(registry, 'strategy_account_snapshot_unix')).toBe(
        Date.parse(snapshot(0).ts) / 1000,
      ),
    );
    expect(await world.tradingState()).toMatchObject({ state: 'HALTED', by: 'operator:bob' });
  });

  it('applies the daily-loss rule from the latest snapshot on the stream, and not before there is one', async () => {
    const bars = flatBars(['1.5', '1.5', '1.5'], T0);
    const { service, registry } = await world.start(
      sleevesFile([
        {
          name: 'daily',
          strategy: 'scripted',
          parameters: { targets: { [bars[0]!.ts]: 1, [bars[1]!.ts]: -1, [bars[2]!.ts]: 0 } },
        },
      ]),
    );
    // No snapshot yet: the loss rules cannot judge, so they do not block.
    await world.publishBars([bars[0]!]);
    await eventually(async () => expect(await world.intents('daily')).toHaveLength(1));

    await world.bus.publish(
      topics.accountSnapshot,
      snapshot(0, { dailyReturnPct: '-3', dailyPnl: '-27000' }),
    );
    await eventually(async () =>
      expect(await world.metric(registry, 'strategy_account_snapshot_unix')).toBe(
        Date.parse(snapshot(0).ts) / 1000,
      ),
    );
    await world.publishBars(bars.slice(1));
    await eventually(() => expect(service.status()[0]!.progress.EURCAD).toBe(bars[2]!.ts));

    expect((await world.intents('daily')).map((i) => [i.side, i.quantity, i.status, i.riskReason])).toEqual([
      ['BUY', '9000', 'accepted', null],
      // From +9 000 in flight to −9 000 opens a short: blocked by the loss limit.
      ['SELL', '18000', 'blocked', 'max_daily_loss'],
      // "Going flat" against a BUY that is only in flight (nothing filled yet): if the BUY never filled,
      // this SELL would open a short while losses are over the limit, so it is blocked too.
      ['SELL', '9000', 'blocked', 'max_daily_loss'],
    ]);
  });
});
