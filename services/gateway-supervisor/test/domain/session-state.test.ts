import type { GatewaySessionState } from '@ibstack/contracts';

import { DEFAULT_LOG_PATTERNS } from '../../src/domain/log-lines';
import { DEFAULT_RESET_WINDOWS } from '../../src/domain/reset-windows';
import {
  type GatewayEvent,
  initialState,
  nextState,
  type SupervisorRules,
  type SupervisorState,
} from '../../src/domain/session-state';
import { DEFAULT_WEEKLY_REAUTH } from '../../src/domain/weekly-reauth';

const RULES: SupervisorRules = {
  region: 'north_america',
  resetWindows: DEFAULT_RESET_WINDOWS,
  weeklyReauth: DEFAULT_WEEKLY_REAUTH,
  logPatterns: DEFAULT_LOG_PATTERNS,
  disconnectGraceMs: 120_000,
  restoredSettleMs: 60_000,
  conflictHoldMs: 300_000,
};

/** Wednesday 2026-03-04 15:00 New York (20:00 UTC): no reset window, no weekly re-auth. */
const WEDNESDAY = Date.UTC(2026, 2, 4, 20, 0, 0);
const S = 1000;
const M = 60 * S;

type Step = GatewayEvent extends infer E
  ? E extends GatewayEvent
    ? Omit<E, 'at'> & { after: number }
    : never
  : never;
const ready = (after = 0): Step => ({ type: 'session_ready', accounts: ['DU1234567'], after });
const code = (value: number, after = 0, own = true): Step => ({
  type: 'ib_code',
  code: value,
  message: `IB ${value}`,
  source: own ? 'gateway-supervisor' : 'ingestor',
  own,
  after,
});
const probeOk = (after = 0): Step => ({ type: 'probe', ok: true, latencyMs: 12, detail: 'ok', after });
const probeFail = (failure: string, after = 0): Step =>
  ({
    type: 'probe',
    ok: false,
    latencyMs: 5000,
    failure,
    detail: failure,
    after,
  }) as Step;
const log = (line: string, after = 0): Step => ({ type: 'log_line', line, after });
const tick = (after: number): Step => ({ type: 'tick', after });

function run(steps: readonly Step[], start = WEDNESDAY): SupervisorState {
  let state = initialState(start);
  let at = start;
  for (const { after, ...event } of steps) {
    at += after;
    state = nextState(state, { ...event, at }, RULES);
  }
  return state;
}

describe('gateway session state machine', () => {
  it.each<[string, Step[], GatewaySessionState, Partial<SupervisorState>]>([
    ['starts unknown', [], 'unknown', { logins: 0 }],
    [
      'our session gets in: logged in, not counted as a login at start-up',
      [ready()],
      'logged_in',
      { logins: 0 },
    ],
    ['a probe that cannot connect: unreachable', [probeFail('unreachable')], 'unreachable', { ready: false }],
    ['the relay answers, no gateway behind it: logged out', [probeFail('no_session')], 'logged_out', {}],
    [
      'logged out, then logged in: one login',
      [probeFail('no_session'), probeOk(5 * S)],
      'logged_in',
      { logins: 1, ready: true },
    ],
    [
      'IBGA waits for 2FA',
      [probeFail('no_session'), log('!!! IB Gateway is waiting for two-factor authentication !!!')],
      'two_factor_pending',
      {},
    ],
    [
      '2FA pending stays while probes find no session',
      [log('!!! IB Gateway is waiting for two-factor authentication !!!'), probeFail('no_session', 30 * S)],
      'two_factor_pending',
      {},
    ],
    [
      '2FA approved: logged in, one login',
      [log('!!! IB Gateway is waiting for two-factor authentication !!!'), ready(40 * S)],
      'logged_in',
      { logins: 1 },
    ],
    [
      '1100: broker disconnected',
      [ready(), code(1100)],
      'broker_disconnected',
      { code: 1100, escalated: false },
    ],
    ['2110: broker disconnected', [ready(), code(2110)], 'broker_disconnected', { code: 2110 }],
    [
      '1100 outside a reset window, longer than the grace: escalated',
      [ready(), code(1100), tick(3 * M)],
      'broker_disconnected',
      { escalated: true },
    ],
    [
      '1101: restored, data lost',
      [ready(), code(1100), code(1101, 10 * S)],
      'restored_data_lost',
      { code: 1101 },
    ],
    [
      '1102: restored, data kept',
      [ready(), code(1100), code(1102, 10 * S)],
      'restored_data_kept',
      { code: 1102 },
    ],
    [
      'restored settles to logged in, not counted as a login',
      [ready(), code(1100), code(1102, 10 * S), tick(61 * S)],
      'logged_in',
      { logins: 0 },
    ],
    [
      '10197 seen by the ingestor: competing session',
      [ready(), code(10197, 0, false)],
      'competing_session',
      { detail: 'ingestor: IB 10197' },
    ],
    ['IBGA logs an existing session', [ready(), log('existing session detected')], 'competing_session', {}],
    [
      'a competing session nobody reports again clears',
      [ready(), probeOk(), code(10197, 0, false), tick(5 * M)],
      'logged_in',
      {},
    ],
    [
      'our own 326: client id in use until our session gets in',
      [code(326), tick(10 * M)],
      'client_id_in_use',
      {},
    ],
    ['our own 326 cleared by our session', [code(326), ready(30 * S)], 'logged_in', {}],
    [
      "another service's 326 clears after the hold time",
      [ready(), probeOk(), code(326, 0, false), tick(5 * M)],
      'logged_in',
      {},
    ],
    [
      'a probe stuck after login only marks it not ready',
      [ready(), probeOk(), probeFail('no_answer', 30 * S)],
      'logged_in',
      { ready: false },
    ],
    [
      'a fatal login error from IBGA: logged out with its line',
      [log('cannot continue due to fatal error: Invalid username or password.')],
      'logged_out',
      { detail: 'cannot continue due to fatal error: Invalid username or password.' },
    ],
  ])('%s', (_name, steps, state, fields) => {
    const result = run(steps);
    expect(result.state).toBe(state);
    expect(result).toMatchObject(fields);
  });

  it('keeps `since` while the state stays, and records the previous state on a change', () => {
    const first = run([ready(), code(1100)]);
    const later = nextState(
      first,
      { type: 'ib_code', at: first.since + 5 * S, code: 1100, message: 'again', source: 'x', own: true },
      RULES,
    );
    expect(later.since).toBe(first.since);
    expect(first.previous).toBe('logged_in');
  });

  describe('reset windows (north america: daily 00:15–01:45 New York)', () => {
    // Thursday 2026-03-05 00:20 New York (05:20 UTC): inside the daily reset.
    const INSIDE = Date.UTC(2026, 2, 5, 5, 20, 0);

    it('a disconnect inside the window is expected: in window, not escalated', () => {
      const result = run([ready(), code(1100), tick(30 * M)], INSIDE);
      expect(result).toMatchObject({
        state: 'broker_disconnected',
        inResetWindow: true,
        escalated: false,
        resetWindow: 'daily reset',
      });
    });

    it('one that outlasts the window is escalated once the window is over', () => {
      const result = run([ready(), code(1100), tick(85 * M)], INSIDE); // 01:45 passed
      expect(result).toMatchObject({ state: 'broker_disconnected', inResetWindow: false, escalated: true });
    });

    it('follows the configured region: Europe has no window at 00:20 New York', () => {
      const result = nextState(
        run([ready(), code(1100)], INSIDE),
        { type: 'tick', at: INSIDE + 3 * M },
        { ...RULES, region: 'europe' },
      );
      expect(result).toMatchObject({ inResetWindow: false, escalated: true });
    });
  });

  describe('weekly re-authentication (IBKR resets tokens Sunday 01:00 New York)', () => {
    // Sunday 2026-03-08 is the DST change in New York; use 2026-03-01: Sunday 10:00 New York = 15:00 UTC.
    const SUNDAY_MORNING = Date.UTC(2026, 2, 1, 15, 0, 0);

    it('logged out on Sunday morning is expected', () => {
      const result = run([probeFail('no_session')], SUNDAY_MORNING);
      expect(result.state).toBe('logged_out');
      expect(result.detail).toBe('no_session');
    });

    it('still not logged in after the Sunday 17:00 deadline: re-authentication overdue', () => {
      const result = run([probeFail('no_session'), tick(8 * 60 * M)], SUNDAY_MORNING);
      expect(result.state).toBe('reauthentication_overdue');
    });

    it('a login after the token reset clears it and counts', () => {
      const result = run([probeFail('no_session'), tick(8 * 60 * M), probeOk(M)], SUNDAY_MORNING);
      expect(result).toMatchObject({ state: 'logged_in', logins: 1 });
    });

    it('a gateway logged in since before the reset but never again is overdue too', () => {
      const saturday = SUNDAY_MORNING - 24 * 60 * M;
      const result = run(
        [probeFail('no_session'), probeOk(M), probeFail('no_session', 32 * 60 * M)],
        saturday,
      );
      expect(result.state).toBe('reauthentication_overdue');
    });

    it('logged out on Wednesday is plainly logged out', () => {
      expect(run([probeFail('no_session'), tick(8 * 60 * M)]).state).toBe('logged_out');
    });
  });
});
