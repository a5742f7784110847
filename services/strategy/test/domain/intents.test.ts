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
    const book = new SleeveBook();
    book.applyFill({
      execId: 'e1',
      sleeve: 'alpha',
      instrument: 'EURCAD',
      side: 'BUY',
      quantity: '9000',
      price: '1.5',
    });
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
