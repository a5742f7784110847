import type { GatewayHealth, GatewaySessionState } from '@ibstack/contracts';
import { makeFill } from '@ibstack/test-kit';

import {
  dailySummaryNotice,
  fillsNotice,
  gatewayNotice,
  MAX_FILL_LINES,
  systemNotice,
} from '../../src/domain/notices';
import {
  type Clock,
  fitMessage,
  groupDigits,
  MAX_MESSAGE_LENGTH,
  signedMoney,
  when,
} from '../../src/domain/text';

const CLOCK: Clock = { timeZone: 'America/New_York', now: Date.parse('2026-11-24T15:10:00.000Z') };

describe('text', () => {
  it('groups digits without touching the fraction', () => {
    expect(groupDigits('1234567.891011')).toBe('1,234,567.891011');
    expect(groupDigits('-1000')).toBe('-1,000');
    expect(signedMoney('234.1')).toBe('+234.10');
    expect(signedMoney('-0.005')).toBe('-0.01');
  });

  it('shows a time of today without its day, and another day with it, in the operator zone', () => {
    expect(when('2026-11-24T15:09:05.000Z', CLOCK)).toBe('10:09:05');
    expect(when('2026-11-22T15:09:05.000Z', CLOCK)).toBe('Sun 22 Nov 10:09');
  });

  it('fits a long message under the limit, saying how much it left out and closing an open <pre>', () => {
    const lines = [
      '<b>head</b>',
      '<pre>',
      ...Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(20)}`),
      '</pre>',
    ];
    const text = fitMessage(lines);
    expect(text.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(text).toMatch(/<\/pre>\n… \d+ more lines not shown$/);
  });
});

describe('fillsNotice', () => {
  it('tells one fill with its sleeve, order and commission', () => {
    const text = fillsNotice(
      [
        makeFill({
          sleeve: 'demo',
          commission: '2',
          commissionCurrency: 'USD',
          ts: '2026-11-24T15:09:00.000Z',
        }),
      ],
      CLOCK,
    );
    expect(text).toBe(
      '🟢 <b>Filled</b> BUY 20,000 <b>EURCAD</b> @ 1.48250\nsleeve demo · order 1 · commission 2.00 USD · 10:09:00',
    );
  });

  it('tells a burst as totals per instrument and side, then the fills up to a limit', () => {
    const fills = Array.from({ length: MAX_FILL_LINES + 5 }, (_, i) =>
      makeFill({
        execId: `e${i}`,
        side: i < 5 ? 'SELL' : 'BUY',
        quantity: '1000',
        price: i % 2 ? '1.48200' : '1.48300',
        ts: new Date(CLOCK.now - (30 - i) * 1000).toISOString(),
      }),
    );
    const text = fillsNotice(fills, CLOCK);
    const lines = text.split('\n');
    expect(lines[0]).toBe('<b>25 fills</b>');
    expect(lines).toContain('🔴 SELL 5,000 <b>EURCAD</b> avg 1.48260 (5 fills)');
    expect(lines).toContain('🟢 BUY 20,000 <b>EURCAD</b> avg 1.48250 (20 fills)');
    expect(lines.filter((line) => /^\d\d:\d\d:\d\d (BUY|SELL)/.test(line))).toHaveLength(MAX_FILL_LINES);
    expect(lines.at(-1)).toBe('… and 5 more (in the totals above)');
  });

  it('escapes what it shows', () => {
    expect(fillsNotice([makeFill({ sleeve: 'a<b' })], CLOCK)).toContain('sleeve a&lt;b');
  });
});

describe('gatewayNotice', () => {
  const health = (state: GatewaySessionState, previous?: GatewaySessionState): GatewayHealth => ({
    v: 1,
    state,
    since: '2026-11-24T15:00:00.000Z',
    ...(previous ? { previous } : {}),
    inResetWindow: false,
    ready: state === 'logged_in',
    tradingMode: 'paper',
    ts: '2026-11-24T15:05:00.000Z',
  });

  it.each<[GatewaySessionState, GatewaySessionState | undefined, string | null]>([
    ['two_factor_pending', 'logged_out', 'Two-factor approval pending'],
    ['competing_session', 'logged_in', 'Competing session'],
    ['reauthentication_overdue', 'logged_out', 'Weekly re-authentication needed'],
    ['broker_disconnected', 'logged_in', "Gateway lost IBKR's servers"],
    ['unreachable', undefined, 'Gateway unreachable'],
    ['logged_in', 'two_factor_pending', 'Gateway logged in'],
    ['restored_data_kept', 'broker_disconnected', 'Gateway reconnected'],
    // Nothing to tell: a gateway that was fine and still is, or a state nobody knows.
    ['logged_in', undefined, null],
    ['logged_in', 'restored_data_kept', null],
    ['unknown', 'logged_in', null],
  ])('%s after %s → %s', (state, previous, expected) => {
    const notice = gatewayNotice(health(state, previous), CLOCK);
    if (expected === null) expect(notice).toBeNull();
    else expect(notice?.text).toContain(expected);
  });

  it('keys a change by state and since, so heartbeats of the same state are one notice', () => {
    const first = gatewayNotice(health('two_factor_pending'), CLOCK);
    const heartbeat = gatewayNotice(
      { ...health('two_factor_pending'), ts: '2026-11-24T15:06:00.000Z' },
      CLOCK,
    );
    expect(heartbeat?.key).toBe(first?.key);
  });

  it('says a disconnect inside the reset window is expected', () => {
    expect(gatewayNotice({ ...health('broker_disconnected'), inResetWindow: true }, CLOCK)?.text).toContain(
      "Expected: this is inside IBKR's daily reset window.",
    );
  });
});

describe('systemNotice', () => {
  it('leaves trading_halted to the trading-state notice', () => {
    const event = {
      v: 1 as const,
      eventId: 'x',
      service: 'execution',
      severity: 'critical' as const,
      code: 'trading_halted',
      message: 'mismatch',
      ts: '2026-11-24T15:00:00.000Z',
    };
    expect(systemNotice(event, CLOCK)).toBeNull();
    expect(systemNotice({ ...event, code: 'sleeve_paused' }, CLOCK)).toContain(
      '🚨 <b>execution</b>: sleeve paused',
    );
  });
});

describe('dailySummaryNotice', () => {
  it('gives the day in one message: NAV and its change, fills, positions, state, gateway, reconciliations', () => {
    const text = dailySummaryNotice(
      {
        windowStart: '2026-11-23T22:30:00.000Z',
        windowEnd: '2026-11-24T22:30:00.000Z',
        timeZone: 'America/New_York',
        accounts: [
          {
            account: 'DU1234567',
            currency: 'USD',
            netLiquidation: '100234.10',
            openingNetLiquidation: '100000',
            dailyPnl: '234.1',
            drawdownPct: '0.1',
          },
        ],
        fills: [{ instrument: 'EURCAD', side: 'BUY', quantity: '40000', count: 2, commission: '4.2' }],
        realizedPnl: '-12.5',
        positions: [{ account: 'DU1234567', instrument: 'EURCAD', quantity: '40000', averageCost: '1.4801' }],
        tradingState: {
          v: 1,
          state: 'HALTED',
          reason: 'mismatch',
          by: 'execution',
          at: '2026-11-24T20:00:00.000Z',
        },
        gateway: null,
        reconciliations: { runs: 12, mismatching: 1 },
        notificationsFailed: 2,
      },
      { ...CLOCK, now: Date.parse('2026-11-24T22:30:00.000Z') },
    );
    expect(text.split('\n')).toEqual([
      '📊 <b>Daily summary</b> · 17:30:00 America/New_York (last 24 h)',
      'DU1234567: NAV 100,234.10 USD · 24 h +234.10 · today +234.10 · drawdown 0.10%',
      '',
      '<b>Fills</b>: 2 · realized -12.50',
      '🟢 BUY 40,000 EURCAD (2) · commission 4.20',
      '',
      '<b>Positions</b>: 1',
      'EURCAD 40,000 avg 1.4801',
      '',
      'Trading: HALTED (mismatch)',
      'Gateway: no report from the gateway supervisor',
      'Reconciliation: 12 runs, <b>1 with mismatches</b>',
      "⚠️ 2 notifications could not be delivered (see the notifier's log).",
    ]);
  });
});
