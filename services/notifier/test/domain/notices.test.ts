import type { GatewayHealth, GatewaySessionState } from '@ibstack/contracts';
import { makeFill } from '@ibstack/test-kit';

import {
  dailySummaryNotice,
  fillsNotice,
  gatewayNotice,
  MAX_FILL_LINES,
  reauthReminderNotice,
  systemNotice,
  tradingStateNotice,
} from '../../src/domain/notices';
import {
  clip,
  type Clock,
  fitMessage,
  groupDigits,
  MAX_MESSAGE_LENGTH,
  signedMoney,
  when,
} from '../../src/domain/text';
import {
  lastTradingDay,
  reauthReminderCron,
  upcomingReauth,
  weeklyReauth,
} from '../../src/domain/trading-calendar';

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
  it('tells the trading day that closed: P&L, NAV over the day, fills, then positions, state, gateway now', () => {
    const tradingDay = lastTradingDay(Date.parse('2026-11-24T22:30:00.000Z'));
    const text = dailySummaryNotice(
      {
        tradingDay,
        timeZone: 'America/New_York',
        accounts: [
          {
            account: 'DU1234567',
            currency: 'USD',
            netLiquidation: '100234.10',
            openingNetLiquidation: '100000',
            dailyPnl: '234.1',
            drawdownPct: '0.1',
            at: '2026-11-24T21:59:58.000Z',
          },
          {
            account: 'DU7654321',
            currency: 'EUR',
            netLiquidation: '5000',
            openingNetLiquidation: null,
            dailyPnl: '0',
            drawdownPct: '0',
            at: '2026-11-24T18:00:00.000Z',
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
      '📊 <b>Daily summary</b> · trading day 2026-11-24',
      'Mon 23 Nov 17:00 to 17:00:00 America/New_York',
      'DU1234567: P&amp;L +234.10 USD · NAV 100,234.10 (+234.10 over the day) · drawdown 0.10%',
      'DU7654321: P&amp;L +0.00 EUR · NAV 5,000.00 · drawdown 0.00% · ⚠️ as of 13:00:00',
      '',
      '<b>Fills</b>: 2 · realized -12.50',
      '🟢 BUY 40,000 EURCAD (2) · commission 4.20',
      '',
      '<b>Positions now</b>: 1',
      'EURCAD 40,000 avg 1.4801',
      '',
      'Trading: HALTED (mismatch)',
      'Gateway: no report from the gateway supervisor',
      'Reconciliation: 12 runs, <b>1 with mismatches</b>',
      "⚠️ 2 notifications could not be delivered (see the notifier's log).",
    ]);
  });
});

describe('trading calendar', () => {
  it('gives the trading day that closed last, 17:00 to 17:00 New York, across a DST change', () => {
    // Tuesday 17:30 New York (EST): the day that closed half an hour ago.
    expect(lastTradingDay(Date.parse('2026-11-24T22:30:00.000Z'))).toEqual({
      day: '2026-11-24',
      startMs: Date.parse('2026-11-23T22:00:00.000Z'),
      endMs: Date.parse('2026-11-24T22:00:00.000Z'),
    });
    // Tuesday 16:59 New York: Tuesday's day still runs, so Monday's.
    expect(lastTradingDay(Date.parse('2026-11-24T21:59:00.000Z')).day).toBe('2026-11-23');
    // Sunday 1 Nov 2026 17:30 EST; that day opened Saturday 17:00 EDT, before clocks went back: 25 hours.
    expect(lastTradingDay(Date.parse('2026-11-01T22:30:00.000Z'))).toEqual({
      day: '2026-11-01',
      startMs: Date.parse('2026-10-31T21:00:00.000Z'),
      endMs: Date.parse('2026-11-01T22:00:00.000Z'),
    });
  });

  it("finds IBKR's weekly reset and the deadline after it, and the one to remind of", () => {
    // Wednesday 25 Nov 2026: the reset was Sunday 22 Nov 01:00 EST, the deadline that Sunday 17:00.
    expect(weeklyReauth(Date.parse('2026-11-25T12:00:00.000Z'), 17)).toEqual({
      resetAt: Date.parse('2026-11-22T06:00:00.000Z'),
      deadlineAt: Date.parse('2026-11-22T22:00:00.000Z'),
    });
    // Sunday 00:30 New York: still last week's reset.
    expect(weeklyReauth(Date.parse('2026-11-29T05:30:00.000Z'), 17).resetAt).toBe(
      Date.parse('2026-11-22T06:00:00.000Z'),
    );
    // Sunday 15:00 New York: this Sunday's, its deadline two hours ahead.
    expect(upcomingReauth(Date.parse('2026-11-29T20:00:00.000Z'), 17)).toEqual({
      resetAt: Date.parse('2026-11-29T06:00:00.000Z'),
      deadlineAt: Date.parse('2026-11-29T22:00:00.000Z'),
    });
    // Wednesday: the deadline passed, so next Sunday's.
    expect(upcomingReauth(Date.parse('2026-11-25T12:00:00.000Z'), 17).resetAt).toBe(
      Date.parse('2026-11-29T06:00:00.000Z'),
    );
    expect(reauthReminderCron(17)).toBe('0 15 * * 0');
    expect(reauthReminderCron(3)).toBe('0 2 * * 0');
  });
});

describe('reauthReminderNotice', () => {
  const reauth = upcomingReauth(Date.parse('2026-11-29T20:00:00.000Z'), 17);
  const clock: Clock = { timeZone: 'America/New_York', now: Date.parse('2026-11-29T20:00:00.000Z') };
  const gateway: GatewayHealth = {
    v: 1,
    state: 'logged_out',
    since: '2026-11-29T06:00:05.000Z',
    inResetWindow: false,
    ready: false,
    tradingMode: 'paper',
    lastLoginAt: '2026-11-23T13:00:00.000Z',
    ts: '2026-11-29T19:59:00.000Z',
  };

  it('names the reset and the deadline, and asks for the login while none came since the reset', () => {
    const text = reauthReminderNotice(gateway, reauth, clock);
    expect(text).toContain(
      'IBKR ended every session at 01:00:00; the gateway must be logged in again by 17:00:00',
    );
    expect(text).toContain('approve its login on IBKR Mobile before then');
    expect(text).toContain('Gateway now: logged out for 13 h 59 min · last login Mon 23 Nov 08:00');
  });

  it('says there is nothing to do once the gateway logged in after the reset', () => {
    const text = reauthReminderNotice(
      { ...gateway, state: 'logged_in', lastLoginAt: '2026-11-29T12:00:00.000Z' },
      reauth,
      clock,
    );
    expect(text).toContain('✅ It has logged in since the reset (07:00:00): nothing to do.');
    expect(text).not.toContain('approve');
  });
});

describe('clip', () => {
  it('cuts free text to its limit with an ellipsis, never inside a surrogate pair', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('abcdefghijkl', 5)).toBe('abcd…');
    expect(clip('🛑🛑🛑🛑', 3)).toBe('🛑🛑…');
  });

  it('keeps a trading state notice with a reason of any length under the limit', () => {
    const text = tradingStateNotice(
      { v: 1, state: 'HALTED', reason: '<&>'.repeat(3_000), by: 'cli', at: '2026-11-24T15:00:00.000Z' },
      CLOCK,
    );
    expect(text.length).toBeLessThan(MAX_MESSAGE_LENGTH);
    expect(text).toContain('reason: &lt;&amp;&gt;');
  });
});
