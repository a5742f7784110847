import type { AccountSnapshot, TradingState } from '@ibstack/contracts';
import {
  checkOrder,
  DEFAULT_RISK_LIMITS,
  drawdownLevel,
  type RiskDecision,
  type RiskInput,
  RiskLimits,
} from '@ibstack/risk';

const NOW = Date.parse('2026-11-24T15:00:00.000Z');

function snapshot(overrides: Partial<AccountSnapshot> = {}): AccountSnapshot {
  return {
    v: 1,
    account: 'DU1234567',
    currency: 'USD',
    netLiquidation: '1000000',
    cash: '1000000',
    realizedPnl: '0',
    unrealizedPnl: '0',
    dailyPnl: '0',
    dailyReturnPct: '0',
    highWaterMark: '1000000',
    drawdownPct: '0',
    ts: '2026-11-24T14:59:00.000Z',
    ...overrides,
  };
}

function state(name: TradingState['state']): TradingState {
  return { v: 1, state: name, reason: 'operator test', by: 'alice', at: '2026-11-24T14:00:00.000Z' };
}

/** A BUY of 20 000 EUR.CAD at 1.5 CAD = 30 000 CAD = 21 600 USD at the default 0.72 rate. */
function input(overrides: Partial<RiskInput> = {}, order: Partial<RiskInput['order']> = {}): RiskInput {
  return {
    order: {
      sleeve: 'demo',
      instrument: 'EURCAD',
      currency: 'CAD',
      side: 'BUY',
      quantity: '20000',
      referencePrice: '1.5',
      ...order,
    },
    scope: 'sleeve',
    positions: {},
    tradingState: null,
    limits: DEFAULT_RISK_LIMITS,
    recentOrderTimes: [],
    now: NOW,
    account: snapshot(),
    ...overrides,
  };
}

function reasonOf(decision: RiskDecision): string {
  return decision.allowed ? 'allowed' : decision.reason;
}

describe('risk limits', () => {
  it('fills every default from an empty object and accepts numbers or strings', () => {
    expect(RiskLimits.parse({})).toEqual({
      maxPositionUsd: '100000',
      maxPositionQuantity: {},
      maxOrderNotionalUsd: '50000',
      maxOrdersPerMinute: 10,
      maxDailyLossPct: '2',
      drawdownWarnPct: '5',
      drawdownReducePct: '10',
    });
    expect(RiskLimits.parse({ maxPositionUsd: 2500.5, maxOrderNotionalUsd: '1e3' })).toMatchObject({
      maxPositionUsd: '2500.5',
      maxOrderNotionalUsd: '1000',
    });
  });

  it('rejects unknown keys, non-positive values and a warning threshold above the reducing one', () => {
    const result = RiskLimits.safeParse({
      maxPositionUSD: 1,
      maxOrderNotionalUsd: 0,
      drawdownWarnPct: 12,
      drawdownReducePct: 10,
    });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([expect.stringMatching(/maxPositionUSD/), 'maxOrderNotionalUsd: must be > 0']),
    );
    expect(
      RiskLimits.safeParse({ drawdownWarnPct: 12, drawdownReducePct: 10 }).error!.issues[0]!.message,
    ).toBe('drawdownWarnPct must be below drawdownReducePct');
  });
});

describe('risk: trading state', () => {
  it('lets an order through when the state key is absent or RUNNING', () => {
    expect(checkOrder(input())).toEqual({ allowed: true, warnings: [] });
    expect(checkOrder(input({ tradingState: state('RUNNING') }))).toEqual({ allowed: true, warnings: [] });
  });

  it('blocks every order while HALTED, closing ones too, and says who halted', () => {
    const closing = checkOrder(
      input({ tradingState: state('HALTED'), positions: { EURCAD: '20000' } }, { side: 'SELL' }),
    );
    expect(closing).toEqual({
      allowed: false,
      reason: 'trading_halted',
      detail: 'trading is HALTED (operator test, by alice)',
    });
    expect(reasonOf(checkOrder(input({ tradingState: 'HALTED' })))).toBe('trading_halted');
  });

  it('lets through only orders that shrink the position while REDUCING', () => {
    const reducing = { tradingState: state('REDUCING'), positions: { EURCAD: '20000' } };
    expect(reasonOf(checkOrder(input(reducing, { side: 'SELL', quantity: '5000' })))).toBe('allowed');
    expect(reasonOf(checkOrder(input(reducing, { side: 'SELL', quantity: '20000' })))).toBe('allowed');
    // Selling 30 000 would flip to short 10 000: not a reduction.
    expect(reasonOf(checkOrder(input(reducing, { side: 'SELL', quantity: '30000' })))).toBe('reducing_only');
    expect(reasonOf(checkOrder(input(reducing, { side: 'BUY', quantity: '1' })))).toBe('reducing_only');
    // Flat: nothing can shrink.
    expect(reasonOf(checkOrder(input({ tradingState: 'REDUCING' }, { side: 'SELL' })))).toBe('reducing_only');
    // Short positions shrink with BUYs.
    const short = { tradingState: state('REDUCING'), positions: { EURCAD: '-20000' } };
    expect(reasonOf(checkOrder(input(short, { side: 'BUY', quantity: '20000' })))).toBe('allowed');
    expect(reasonOf(checkOrder(input(short, { side: 'SELL', quantity: '1' })))).toBe('reducing_only');
  });

  it('does not count a sell against an unfilled buy as reducing (it could leave a short)', () => {
    // Flat, with a BUY of 40 000 working: the SELL shrinks position + pending, but not what is held.
    const decision = checkOrder(
      input(
        { tradingState: 'REDUCING', pending: { EURCAD: { buy: '40000', sell: '0' } } },
        { side: 'SELL', quantity: '40000' },
      ),
    );
    expect(reasonOf(decision)).toBe('reducing_only');
  });

  it('counts orders in flight as part of the position while REDUCING', () => {
    // Long 20 000 with a SELL of 20 000 already in flight: another SELL would go short.
    const decision = checkOrder(
      input(
        {
          tradingState: 'REDUCING',
          positions: { EURCAD: '20000' },
          pending: { EURCAD: { buy: '0', sell: '20000' } },
        },
        { side: 'SELL', quantity: '10000' },
      ),
    );
    expect(decision).toMatchObject({ allowed: false, reason: 'reducing_only' });
    expect((decision as { detail: string }).detail).toMatch(/sleeve demo position of 0/);
  });
});

describe('risk: max orders per minute', () => {
  const limits = RiskLimits.parse({ maxOrdersPerMinute: 3 });

  it('blocks the order that would exceed the rate within a rolling minute', () => {
    const times = [NOW - 50_000, NOW - 20_000, NOW - 1];
    expect(checkOrder(input({ limits, recentOrderTimes: times }))).toMatchObject({
      allowed: false,
      reason: 'max_orders_per_minute',
      detail: '3 orders in the last minute for sleeve demo; the limit is 3',
    });
  });

  it('lets it through once the oldest order is more than a minute old', () => {
    const times = [NOW - 60_000, NOW - 20_000, NOW - 1];
    expect(reasonOf(checkOrder(input({ limits, recentOrderTimes: times })))).toBe('allowed');
  });

  it('applies to closing orders too, so a runaway loop cannot spam exits', () => {
    const times = [NOW - 3, NOW - 2, NOW - 1];
    const closing = input(
      { limits, recentOrderTimes: times, positions: { EURCAD: '20000' } },
      { side: 'SELL' },
    );
    expect(reasonOf(checkOrder(closing))).toBe('max_orders_per_minute');
  });
});

describe('risk: max order notional', () => {
  it('converts the notional to USD with the quote currency and blocks above the limit', () => {
    const limits = RiskLimits.parse({ maxOrderNotionalUsd: 21_599 });
    expect(checkOrder(input({ limits }))).toEqual({
      allowed: false,
      reason: 'max_order_notional',
      detail: 'order notional 21600.00 USD exceeds 21599 USD',
    });
  });

  it('lets an order at exactly the limit through', () => {
    const limits = RiskLimits.parse({ maxOrderNotionalUsd: 21_600 });
    expect(reasonOf(checkOrder(input({ limits })))).toBe('allowed');
  });

  it('uses caller-supplied FX rates', () => {
    const limits = RiskLimits.parse({ maxOrderNotionalUsd: 21_600 });
    expect(reasonOf(checkOrder(input({ limits, fxRatesToUsd: { USD: '1', CAD: '0.73' } })))).toBe(
      'max_order_notional',
    );
  });

  it('fails closed when no FX rate is known for the quote currency', () => {
    const decision = checkOrder(input({}, { currency: 'SEK' }));
    expect(decision).toMatchObject({ allowed: false, reason: 'max_order_notional' });
    expect((decision as { detail: string }).detail).toMatch(/no FX rate from SEK to USD/);
  });
});

describe('risk: max position', () => {
  it('blocks an order that takes the position over the USD limit, counting orders in flight', () => {
    // 20 000 held + 20 000 in flight + 30 000 = 70 000 EUR at 1.5 CAD × 0.72 = 75 600 USD.
    const limits = RiskLimits.parse({ maxPositionUsd: 75_000, maxOrderNotionalUsd: 100_000 });
    const decision = checkOrder(
      input(
        { limits, positions: { EURCAD: '20000' }, pending: { EURCAD: { buy: '20000', sell: '0' } } },
        { quantity: '30000' },
      ),
    );
    expect(decision).toEqual({
      allowed: false,
      reason: 'max_position',
      detail: 'sleeve demo position in EURCAD would be 70000 (75600.00 USD), over 75000 USD',
    });
    expect(
      reasonOf(checkOrder(input({ limits, positions: { EURCAD: '20000' } }, { quantity: '30000' }))),
    ).toBe('allowed');
  });

  it.each<[string, Partial<RiskInput>, Partial<RiskInput['order']>, string]>([
    // 9 000 EUR.CAD at 1.5 CAD × 0.72 = 9 720 USD; the limit is 15 000 USD (13 888 units).
    // name, input, order, → decision
    [
      'a buy with a buy and a sell in flight counts the buy',
      { pending: { EURCAD: { buy: '9000', sell: '9000' } } },
      { quantity: '9000' },
      'max_position',
    ],
    [
      'a sell with a buy and a sell in flight counts the sell',
      { pending: { EURCAD: { buy: '9000', sell: '9000' } } },
      { side: 'SELL', quantity: '9000' },
      'max_position',
    ],
    [
      'a buy with only a sell in flight counts nothing',
      { pending: { EURCAD: { buy: '0', sell: '9000' } } },
      { quantity: '9000' },
      'allowed',
    ],
    [
      'a buy against a held short, a sell in flight left out',
      { positions: { EURCAD: '-9000' }, pending: { EURCAD: { buy: '0', sell: '9000' } } },
      { quantity: '18000' },
      'allowed',
    ],
    // REDUCING, short 9 000, a buy of 3 000 and a sell of 5 000 in flight: buying 9 000 goes long 3 000 if
    // the sell never fills. The net (−11 000) made it look like a reduction.
    [
      'REDUCING: a buy past flat once the buys in flight fill',
      {
        tradingState: 'REDUCING',
        positions: { EURCAD: '-9000' },
        pending: { EURCAD: { buy: '3000', sell: '5000' } },
      },
      { quantity: '9000' },
      'reducing_only',
    ],
    [
      'REDUCING: a buy that closes with the buys in flight',
      {
        tradingState: 'REDUCING',
        positions: { EURCAD: '-9000' },
        pending: { EURCAD: { buy: '3000', sell: '5000' } },
      },
      { quantity: '6000' },
      'allowed',
    ],
  ])('counts orders in flight on the order side only: %s', (_name, overrides, order, expected) => {
    const limits = RiskLimits.parse({ maxPositionUsd: 15_000 });
    expect(reasonOf(checkOrder(input({ limits, ...overrides }, order)))).toBe(expected);
  });

  it('applies a per-instrument unit cap and names the scope the caller gave', () => {
    const limits = RiskLimits.parse({ maxPositionQuantity: { EURCAD: 30_000 } });
    const decision = checkOrder(
      input({ limits, scope: 'account', positions: { EURCAD: '-20000' } }, { side: 'SELL' }),
    );
    expect(decision).toEqual({
      allowed: false,
      reason: 'max_position',
      detail: 'account account position in EURCAD would be -40000, over 30000 units',
    });
    expect(reasonOf(checkOrder(input({ limits, positions: { EURCAD: '10000' } })))).toBe('allowed');
  });

  it('lets an order that shrinks an over-limit position through', () => {
    const limits = RiskLimits.parse({ maxPositionQuantity: { EURCAD: 30_000 } });
    expect(reasonOf(checkOrder(input({ limits, positions: { EURCAD: '50000' } }, { side: 'SELL' })))).toBe(
      'allowed',
    );
  });
});

describe('risk: max daily loss', () => {
  it('blocks risk-increasing orders once the daily loss reaches the percentage', () => {
    const decision = checkOrder(input({ account: snapshot({ dailyReturnPct: '-2', dailyPnl: '-20000' }) }));
    expect(decision).toEqual({
      allowed: false,
      reason: 'max_daily_loss',
      detail: 'daily return -2% reaches the loss limit of 2%',
    });
    expect(reasonOf(checkOrder(input({ account: snapshot({ dailyReturnPct: '-1.99' }) })))).toBe('allowed');
  });

  it('also blocks on the USD amount when one is set, converting the account currency', () => {
    const limits = RiskLimits.parse({ maxDailyLossUsd: 5_000 });
    const cadAccount = snapshot({ currency: 'CAD', dailyPnl: '-7000', dailyReturnPct: '-0.7' });
    expect(checkOrder(input({ limits, account: cadAccount }))).toEqual({
      allowed: false,
      reason: 'max_daily_loss',
      detail: 'daily loss 5040.00 USD reaches the limit of 5000 USD',
    });
    expect(reasonOf(checkOrder(input({ limits, account: { ...cadAccount, dailyPnl: '-6900' } })))).toBe(
      'allowed',
    );
  });

  it('blocks, with the reason, instead of throwing when the account currency has no FX rate', () => {
    // An account kept in NZD (an IB base currency the default table lacks), with a USD loss limit.
    const limits = RiskLimits.parse({ maxDailyLossUsd: 5_000 });
    const nzdAccount = snapshot({ currency: 'NZD', dailyPnl: '-100', dailyReturnPct: '-0.01' });
    const decision = checkOrder(input({ limits, account: nzdAccount, scope: 'account' }));
    expect(decision).toEqual({
      allowed: false,
      reason: 'max_daily_loss',
      detail:
        'the daily loss is in NZD, and no FX rate from NZD to USD; add it to the rates table: the USD loss limit cannot judge',
    });
    // Getting out is still possible.
    const closing = input({ limits, account: nzdAccount, positions: { EURCAD: '20000' } }, { side: 'SELL' });
    expect(reasonOf(checkOrder(closing))).toBe('allowed');
    // Without a USD limit the account currency is not converted.
    expect(reasonOf(checkOrder(input({ account: nzdAccount })))).toBe('allowed');
  });

  // The roll is 17:00 New York: 22:00 UTC in winter (EST), 21:00 UTC in summer (EDT). A snapshot keeps
  // the daily loss of the trading day it was taken in; a later day starts with none.
  it.each([
    ['winter, before the roll', '2026-12-03T21:59:50.000Z', '2026-12-03T21:59:59.000Z', 'max_daily_loss'],
    ['winter, across the roll', '2026-12-03T21:59:50.000Z', '2026-12-03T22:00:10.000Z', 'allowed'],
    [
      'winter, a loss after the roll',
      '2026-12-03T22:00:05.000Z',
      '2026-12-03T22:00:10.000Z',
      'max_daily_loss',
    ],
    [
      'winter, 21:00 UTC is no roll',
      '2026-12-03T20:59:50.000Z',
      '2026-12-03T21:00:10.000Z',
      'max_daily_loss',
    ],
    ['summer, across the roll', '2026-07-15T20:59:50.000Z', '2026-07-15T21:00:10.000Z', 'allowed'],
    [
      'summer, 22:00 UTC is no roll',
      '2026-07-15T21:59:50.000Z',
      '2026-07-15T22:00:10.000Z',
      'max_daily_loss',
    ],
    ['the day DST ends, across the roll', '2026-11-01T21:59:50.000Z', '2026-11-01T22:00:10.000Z', 'allowed'],
    ['the day DST ends, 21:00 UTC', '2026-11-01T20:59:50.000Z', '2026-11-01T21:00:10.000Z', 'max_daily_loss'],
    [
      'midnight New York is no roll',
      '2026-12-04T04:59:50.000Z',
      '2026-12-04T05:00:10.000Z',
      'max_daily_loss',
    ],
    ['midnight UTC is no roll', '2026-12-03T23:59:50.000Z', '2026-12-04T00:00:10.000Z', 'max_daily_loss'],
    ['Friday close to Sunday open', '2026-12-04T21:59:00.000Z', '2026-12-06T22:01:00.000Z', 'allowed'],
  ])('judges the daily loss by trading day: %s', (_case, ts, now, expected) => {
    const account = snapshot({ ts, dailyReturnPct: '-3', dailyPnl: '-30000' });
    const at = Date.parse(now);
    expect(reasonOf(checkOrder(input({ account, now: at })))).toBe(expected);
    // The USD limit alone follows the same day.
    const limits = RiskLimits.parse({ maxDailyLossPct: 50, maxDailyLossUsd: 5_000 });
    expect(reasonOf(checkOrder(input({ account, now: at, limits })))).toBe(expected);
    // Execution's maximum age does not change the day (the snapshot is fresh enough here).
    expect(reasonOf(checkOrder(input({ account, now: at, accountMaxAgeMs: 3 * 86_400_000 })))).toBe(expected);
  });

  it('still applies the drawdown of a snapshot taken before the roll (it is no daily figure)', () => {
    const account = snapshot({
      ts: '2026-12-03T21:59:50.000Z',
      dailyReturnPct: '-3',
      drawdownPct: '12',
    });
    const decision = checkOrder(input({ account, now: Date.parse('2026-12-03T22:00:10.000Z') }));
    expect(reasonOf(decision)).toBe('drawdown');
  });

  it('still lets a closing order through after the limit is hit', () => {
    const account = snapshot({ dailyReturnPct: '-5' });
    expect(reasonOf(checkOrder(input({ account, positions: { EURCAD: '20000' } }, { side: 'SELL' })))).toBe(
      'allowed',
    );
  });
});

describe('risk: drawdown', () => {
  it('warns past the warning threshold and blocks risk-increasing orders past the reducing one', () => {
    expect(checkOrder(input({ account: snapshot({ drawdownPct: '5' }) }))).toEqual({
      allowed: true,
      warnings: ['drawdown 5% is past the warning threshold of 5%'],
    });
    expect(checkOrder(input({ account: snapshot({ drawdownPct: '10.5' }) }))).toEqual({
      allowed: false,
      reason: 'drawdown',
      detail: 'drawdown 10.5% reaches the reducing threshold of 10%',
    });
    expect(
      reasonOf(
        checkOrder(
          input(
            { account: snapshot({ drawdownPct: '10.5' }), positions: { EURCAD: '1' } },
            { side: 'SELL', quantity: '1' },
          ),
        ),
      ),
    ).toBe('allowed');
  });

  it('does not block without a snapshot, and says so', () => {
    expect(checkOrder(input({ account: null }))).toEqual({
      allowed: true,
      warnings: ['no account snapshot yet: daily-loss and drawdown rules not applied'],
    });
  });

  it('with a maximum age (execution), blocks orders that add exposure without a snapshot', () => {
    expect(checkOrder(input({ account: null, accountMaxAgeMs: 60_000 }))).toEqual({
      allowed: false,
      reason: 'account_unknown',
      detail:
        'no account snapshot yet: the daily-loss and drawdown rules cannot judge, so orders that add exposure wait for a fresh value',
    });
  });

  it('with a maximum age, blocks orders that add exposure on a snapshot older than it, by its own time', () => {
    // The snapshot's ts is 14:59:00, one minute before NOW.
    expect(reasonOf(checkOrder(input({ accountMaxAgeMs: 60_000 })))).toBe('allowed');
    expect(checkOrder(input({ accountMaxAgeMs: 59_999 }))).toEqual({
      allowed: false,
      reason: 'account_unknown',
      detail:
        'account snapshot is 60 s old (values of 2026-11-24T14:59:00.000Z; limit 60 s): the daily-loss and drawdown rules cannot judge, so orders that add exposure wait for a fresh value',
    });
    expect(reasonOf(checkOrder(input({ accountMaxAgeMs: 60_000, account: snapshot({ ts: 'never' }) })))).toBe(
      'account_unknown',
    );
  });

  it('with a maximum age, still lets an order that shrinks a position through, with a warning', () => {
    const closing = input(
      { account: null, accountMaxAgeMs: 60_000, positions: { EURCAD: '20000' } },
      { side: 'SELL', quantity: '5000' },
    );
    expect(checkOrder(closing)).toEqual({
      allowed: true,
      warnings: ['no account snapshot yet: daily-loss and drawdown rules not applied'],
    });
    const stale = input(
      { accountMaxAgeMs: 1_000, positions: { EURCAD: '20000' } },
      { side: 'SELL', quantity: '20000' },
    );
    expect(reasonOf(checkOrder(stale))).toBe('allowed');
    // A sell past flat adds exposure on the other side: blocked.
    expect(reasonOf(checkOrder({ ...stale, order: { ...stale.order, quantity: '20001' } }))).toBe(
      'account_unknown',
    );
  });

  it('classifies the level with configurable thresholds', () => {
    const limits = RiskLimits.parse({ drawdownWarnPct: 3, drawdownReducePct: 6 });
    expect(drawdownLevel({ drawdownPct: '2.99' }, limits)).toBe('normal');
    expect(drawdownLevel({ drawdownPct: '3' }, limits)).toBe('warning');
    expect(drawdownLevel({ drawdownPct: '6' }, limits)).toBe('reducing');
  });
});

describe('risk: input', () => {
  it('refuses a non-positive quantity or price instead of judging it', () => {
    expect(() => checkOrder(input({}, { quantity: '0' }))).toThrow(RangeError);
    expect(() => checkOrder(input({}, { referencePrice: '-1' }))).toThrow(RangeError);
  });

  it('does decimal math: 0.1 + 0.2 units of a cap of 0.3 is not over it', () => {
    const limits = RiskLimits.parse({ maxPositionQuantity: { EURCAD: '0.3' } });
    expect(reasonOf(checkOrder(input({ limits, positions: { EURCAD: '0.1' } }, { quantity: '0.2' })))).toBe(
      'allowed',
    );
  });
});
