import type { AccountSnapshot, InstrumentKey } from '@ibstack/contracts';
import { deriveIntentId } from '@ibstack/contracts';
import { RiskLimits } from '@ibstack/risk';

import { buildIntents, type RiskView, type Trigger } from '../../src/domain/intents';
import type { CandidateOrder } from '../../src/domain/orders';
import { SleeveBook } from '../../src/domain/sleeve-book';

const T0 = '2026-11-24T15:00:00.000Z';
const NOW = Date.parse(T0) + 61_000;
const rates = { USD: '1', CAD: '0.72' };
const bar: Trigger = { ts: T0, instrument: 'EURCAD', timeframe: '1m', sequenceBase: 0 };

const account: AccountSnapshot = {
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
  ts: T0,
};

function sleeve(risk: Record<string, unknown> = {}, recentOrderTimes: number[] = []) {
  return {
    config: {
      name: 'alpha',
      instruments: [{ key: 'EURCAD' as InstrumentKey }],
      risk: RiskLimits.parse({ maxOrdersPerMinute: 100, ...risk }),
    },
    recentOrderTimes,
  };
}

function order(side: 'BUY' | 'SELL', quantity: string, reason?: string): CandidateOrder {
  return {
    instrument: 'EURCAD',
    currency: 'CAD',
    side,
    quantity,
    orderType: 'MKT',
    referencePrice: '1.5',
    ...(reason !== undefined ? { reason } : {}),
  };
}

/** A book in which sleeve alpha holds 9 000 EUR.CAD, bought at 1.5. */
function longBook(): SleeveBook {
  const book = new SleeveBook();
  book.applyFill({
    execId: 'e1',
    sleeve: 'alpha',
    instrument: 'EURCAD',
    side: 'BUY',
    quantity: '9000',
    price: '1.5',
  });
  return book;
}

function view(overrides: Partial<RiskView> = {}): RiskView {
  return { book: new SleeveBook(), tradingState: null, account, rates, now: NOW, ...overrides };
}

describe('intents', () => {
  it('gives the same traded instrument distinct ids when two instruments trigger at the same time', () => {
    const runner = sleeve();
    const byCad = buildIntents(bar, [{ runner, orders: [order('BUY', '1000')] }], view());
    const byUsd = buildIntents(
      { ...bar, instrument: 'EURUSD' },
      [{ runner, orders: [order('BUY', '1000')] }],
      view(),
    );
    const ids = [byCad.accepted[0]!.intent.intentId, byUsd.accepted[0]!.intent.intentId];
    expect(new Set(ids).size).toBe(2);
    // A bar of the traded instrument keeps the id a single-instrument sleeve has always had.
    expect(ids[0]).toBe(deriveIntentId({ sleeve: 'alpha', instrument: 'EURCAD', barTs: T0, sequence: 0 }));
    // The same trigger processed again yields the same ids.
    const again = buildIntents(
      { ...bar, instrument: 'EURUSD' },
      [{ runner, orders: [order('BUY', '1000')] }],
      view(),
    );
    expect(again.accepted[0]!.intent.intentId).toBe(ids[1]);
  });

  it('derives each intent from the trigger and its place among the sleeve orders', () => {
    const runner = sleeve();
    const tick: Trigger = { ts: T0, instrument: 'EURCAD', timeframe: '1m', sequenceBase: 1_000_000 };
    const built = buildIntents(tick, [{ runner, orders: [order('BUY', '1000', 'cross up')] }], view());

    expect(built.rows).toEqual([{ intent: built.accepted[0]!.intent, status: 'accepted', riskReason: null }]);
    expect(built.accepted[0]).toEqual({
      runner,
      intent: {
        v: 1,
        intentId: deriveIntentId({ sleeve: 'alpha', instrument: 'EURCAD', barTs: T0, sequence: 1_000_000 }),
        sleeve: 'alpha',
        instrument: 'EURCAD',
        side: 'BUY',
        quantity: '1000',
        orderType: 'MKT',
        timeInForce: 'DAY',
        barTs: T0,
        timeframe: '1m',
        sequence: 1_000_000,
        referencePrice: '1.5',
        reason: 'cross up',
        createdAt: new Date(NOW).toISOString(),
      },
    });
    expect(built.blocked).toEqual([]);
    expect(built.audits).toEqual([]);
  });

  it('counts an accepted order as in flight and as recent for the orders after it', () => {
    // 9 000 × 1.5 CAD × 0.72 = 9 720 USD: one fits under 15 000 USD, two do not.
    const bySize = buildIntents(
      bar,
      [{ runner: sleeve({ maxPositionUsd: 15_000 }), orders: [order('BUY', '9000'), order('BUY', '9000')] }],
      view(),
    );
    expect(bySize.rows.map((row) => [row.intent.sequence, row.status, row.riskReason])).toEqual([
      [0, 'accepted', null],
      [1, 'blocked', 'max_position'],
    ]);

    const byRate = buildIntents(
      bar,
      [
        {
          runner: sleeve({ maxOrdersPerMinute: 2 }, [NOW - 1_000]),
          orders: [order('BUY', '1'), order('BUY', '1')],
        },
      ],
      view(),
    );
    expect(byRate.rows.map((row) => row.riskReason)).toEqual([null, 'max_orders_per_minute']);
  });

  it('does not let a working sell make room for more buys: a buy counts the buys in flight, not the sells', () => {
    // Limit orders on both sides, 9 000 × 1.5 CAD × 0.72 = 9 720 USD each, under a 15 000 USD position
    // limit. Netted, the sell in flight made the second buy look flat; if the buys fill and the sell does
    // not (a limit order may never fill), the sleeve is long 18 000 (19 440 USD).
    const limit = (side: 'BUY' | 'SELL', limitPrice: string): CandidateOrder => ({
      ...order(side, '9000'),
      orderType: 'LMT',
      limitPrice,
    });
    const built = buildIntents(
      bar,
      [
        {
          runner: sleeve({ maxPositionUsd: 15_000 }),
          orders: [limit('BUY', '1.49'), limit('SELL', '1.51'), limit('BUY', '1.48'), limit('SELL', '1.52')],
        },
      ],
      view(),
    );
    expect(built.rows.map((row) => [row.intent.side, row.status, row.riskReason])).toEqual([
      ['BUY', 'accepted', null],
      ['SELL', 'accepted', null],
      ['BUY', 'blocked', 'max_position'],
      ['SELL', 'blocked', 'max_position'],
    ]);
    // The same with the orders in flight from earlier triggers (the book's), not this one's.
    const book = new SleeveBook();
    book.addPending('b1', { sleeve: 'alpha', instrument: 'EURCAD', side: 'BUY', quantity: '9000' }, NOW);
    book.addPending('s1', { sleeve: 'alpha', instrument: 'EURCAD', side: 'SELL', quantity: '9000' }, NOW);
    const later = buildIntents(
      bar,
      [{ runner: sleeve({ maxPositionUsd: 15_000 }), orders: [limit('BUY', '1.48')] }],
      view({ book }),
    );
    expect(later.rows.map((row) => row.riskReason)).toEqual(['max_position']);
  });

  it('records a blocked intent with its reason and an audit entry', () => {
    const built = buildIntents(
      bar,
      [{ runner: sleeve(), orders: [order('BUY', '1000')] }],
      view({ tradingState: { v: 1, state: 'HALTED', reason: 'test', by: 'operator:test', at: T0 } }),
    );
    const [{ intent, reason }] = built.blocked as [(typeof built.blocked)[number]];
    expect(reason).toBe('trading_halted');
    expect(built.rows).toEqual([{ intent, status: 'blocked', riskReason: 'trading_halted' }]);
    expect(built.audits).toEqual([
      {
        v: 1,
        auditId: `risk_blocked:${intent.intentId}`,
        actor: 'strategy:risk',
        action: 'order_blocked',
        detail: {
          intentId: intent.intentId,
          sleeve: 'alpha',
          instrument: 'EURCAD',
          side: 'BUY',
          quantity: '1000',
          referencePrice: '1.5',
          barTs: T0,
          reason: 'trading_halted',
          detail: 'trading is HALTED (test, by operator:test)',
        },
        at: new Date(NOW).toISOString(),
      },
    ]);
  });

  it('under REDUCING cuts a flip to a close and blocks what would open a position', () => {
    const book = longBook();
    const reducing = {
      v: 1 as const,
      state: 'REDUCING' as const,
      reason: 'test',
      by: 'strategy:risk',
      at: T0,
    };
    const built = buildIntents(
      bar,
      [{ runner: sleeve(), orders: [order('SELL', '18000', 'flip'), order('SELL', '1000')] }],
      view({ book, tradingState: reducing }),
    );
    expect(
      built.rows.map((row) => [row.intent.quantity, row.intent.reason, row.status, row.riskReason]),
    ).toEqual([
      ['9000', 'flip; cut to a close under REDUCING', 'accepted', null],
      // The close is in flight: the sleeve is flat, so selling more opens a short.
      ['1000', undefined, 'blocked', 'reducing_only'],
    ]);
  });

  // A sleeve long 9 000 whose signal flips it short (SELL 18 000) while a rule blocks the flip: where the
  // rule lets the close through, the flip is cut to the close (same id); otherwise it is blocked whole.
  const STATE = (state: 'REDUCING' | 'HALTED') => ({
    v: 1 as const,
    state,
    reason: 'test',
    by: 'test',
    at: T0,
  });
  it.each<[string, Partial<RiskView>, Record<string, unknown>, number[], string[]]>([
    // name, view, sleeve risk limits, recent order times, → [quantity, reason, status, risk reason]
    [
      'REDUCING',
      { tradingState: STATE('REDUCING') },
      {},
      [],
      ['9000', 'flip; cut to a close under REDUCING', 'accepted', ''],
    ],
    [
      'the daily-loss limit',
      { account: { ...account, dailyReturnPct: '-2.5', dailyPnl: '-25000' } },
      {},
      [],
      ['9000', 'flip; cut to a close (max_daily_loss)', 'accepted', ''],
    ],
    [
      'the drawdown limit',
      { account: { ...account, drawdownPct: '11' } },
      {},
      [],
      ['9000', 'flip; cut to a close (drawdown)', 'accepted', ''],
    ],
    // Short 9 000 at 1.5 CAD is 9 720 USD.
    [
      'the position limit',
      {},
      { maxPositionUsd: 9000 },
      [],
      ['9000', 'flip; cut to a close (max_position)', 'accepted', ''],
    ],
    // The flip is 19 440 USD, the close 9 720.
    [
      'the order-size limit',
      {},
      { maxOrderNotionalUsd: 15000 },
      [],
      ['9000', 'flip; cut to a close (max_order_notional)', 'accepted', ''],
    ],
    [
      'HALTED (a close is blocked too)',
      { tradingState: STATE('HALTED') },
      {},
      [],
      ['18000', 'flip', 'blocked', 'trading_halted'],
    ],
    [
      'the order rate (a close is an order too)',
      {},
      { maxOrdersPerMinute: 1 },
      [NOW - 1000],
      ['18000', 'flip', 'blocked', 'max_orders_per_minute'],
    ],
    [
      'a close that breaks a limit itself',
      { account: { ...account, dailyReturnPct: '-2.5', dailyPnl: '-25000' } },
      { maxOrderNotionalUsd: 9000 },
      [],
      ['18000', 'flip', 'blocked', 'max_order_notional'],
    ],
  ])('a flip blocked by %s', (_rule, overrides, risk, recent, expected) => {
    const book = longBook();
    const built = buildIntents(
      bar,
      [{ runner: sleeve(risk, recent), orders: [order('SELL', '18000', 'flip')] }],
      view({ book, ...overrides }),
    );
    const [row] = built.rows;
    expect([row!.intent.quantity, row!.intent.reason, row!.status, row!.riskReason ?? '']).toEqual(expected);
    expect(row!.intent.intentId).toBe(
      deriveIntentId({ sleeve: 'alpha', instrument: 'EURCAD', barTs: T0, sequence: 0 }),
    );
  });

  it('cuts a flip to what closes both the position and the position with orders in flight', () => {
    const book = longBook();
    // A sell of 4 000 in flight: 9 000 held, 5 000 once it fills.
    book.addPending(
      'i0',
      { sleeve: 'alpha', instrument: 'EURCAD', side: 'SELL', quantity: '4000' },
      NOW - 2000,
    );
    const losing = { ...account, dailyReturnPct: '-2.5', dailyPnl: '-25000' };
    const built = buildIntents(
      bar,
      [{ runner: sleeve(), orders: [order('SELL', '18000', 'flip'), order('BUY', '1000')] }],
      view({ book, account: losing }),
    );
    expect(built.rows.map((row) => [row.intent.quantity, row.status, row.riskReason])).toEqual([
      ['5000', 'accepted', null],
      // Flat once both sells fill: a buy opens a position, which the loss limit blocks.
      ['1000', 'blocked', 'max_daily_loss'],
    ]);
  });

  it('passes on the warnings of accepted orders', () => {
    const built = buildIntents(
      bar,
      [{ runner: sleeve(), orders: [order('BUY', '1000')] }],
      view({ account: null }),
    );
    expect(built.warnings).toEqual([
      { sleeve: 'alpha', warning: 'no account snapshot yet: daily-loss and drawdown rules not applied' },
    ]);
  });
});
