/**
 * The gateway's session as a pure state machine: events in (API codes from our own session and from the
 * other services, the readiness probe, IBGA's log lines, the clock), the next state out. No I/O, no clock
 * of its own: every event carries its time, so tests replay a Sunday or a reset window in microseconds.
 *
 * Invariants:
 * - exactly one state at a time; `since` changes only when the state does;
 * - a login is counted only on the way from a not-logged-in state (logged out, 2FA pending, unreachable,
 *   re-authentication overdue) to logged in, never at start-up (`unknown`) or after a broker restore;
 * - `broker_disconnected` is `escalated` once it lasts longer than the grace outside every reset window of
 *   the account's region (one that began inside a window and outlasts it escalates when the window ends);
 * - a conflict (competing session, client id in use) seen only by others or in the log clears after the
 *   hold time without a new report; our own 326 clears when our session gets in.
 */
import type { GatewaySessionState } from '@ibstack/contracts';

import { type LogPattern, matchLogLine } from './log-lines';
import { activeResetWindows, type ResetWindowTable, type ServerRegion } from './reset-windows';
import { weeklyReauthPhase, type WeeklyReauthRule } from './weekly-reauth';

/** Why the readiness probe failed, from the stage it stopped at. */
export type ProbeFailure =
  'unreachable' | 'no_session' | 'client_id_in_use' | 'broker_disconnected' | 'no_answer';

export type GatewayEvent =
  | { type: 'session_ready'; at: number; accounts: readonly string[] }
  | { type: 'ib_code'; at: number; code: number; message: string; source: string; own: boolean }
  | { type: 'probe'; at: number; ok: boolean; latencyMs: number; failure?: ProbeFailure; detail: string }
  | { type: 'log_line'; at: number; line: string }
  | { type: 'tick'; at: number };

export interface SupervisorRules {
  region: ServerRegion;
  resetWindows: ResetWindowTable;
  weeklyReauth: WeeklyReauthRule;
  logPatterns: readonly LogPattern[];
  /** A broker disconnect outside every reset window is escalated after this. */
  disconnectGraceMs: number;
  /** A restored link (1101/1102) counts as logged in after this. */
  restoredSettleMs: number;
  /** A conflict others reported clears after this without a new report. */
  conflictHoldMs: number;
}

export interface SupervisorState {
  state: GatewaySessionState;
  since: number;
  previous?: GatewaySessionState;
  code?: number;
  detail?: string;
  ready: boolean;
  lastProbeAt?: number;
  probeLatencyMs?: number;
  accounts?: readonly string[];
  lastLoginAt?: number;
  logins: number;
  brokerDownSince?: number;
  /** When the last conflict report came, and whether it was our own session's 326. */
  conflictAt?: number;
  conflictOwn?: boolean;
  inResetWindow: boolean;
  resetWindow?: string;
  escalated: boolean;
}

const NOT_LOGGED_IN: ReadonlySet<GatewaySessionState> = new Set([
  'logged_out',
  'two_factor_pending',
  'unreachable',
  'reauthentication_overdue',
]);

export function initialState(at: number): SupervisorState {
  return { state: 'unknown', since: at, ready: false, logins: 0, inResetWindow: false, escalated: false };
}

function enter(
  current: SupervisorState,
  state: GatewaySessionState,
  at: number,
  reason: { code?: number; detail?: string } = {},
): SupervisorState {
  // Staying in a state keeps the detail of what caused it (IBGA's `login failed: …` outlives the probes
  // that find nobody logged in); a new code still says more.
  if (current.state === state)
    return reason.code === undefined || reason.code === current.code
      ? current
      : { ...current, code: reason.code, detail: reason.detail ?? current.detail };
  const login = state === 'logged_in' && NOT_LOGGED_IN.has(current.state);
  const next: SupervisorState = {
    ...current,
    state,
    since: at,
    previous: current.state,
    code: reason.code,
    detail: reason.detail,
    logins: login ? current.logins + 1 : current.logins,
    lastLoginAt: login ? at : current.lastLoginAt,
  };
  if (state !== 'broker_disconnected') delete next.brokerDownSince;
  if (state !== 'competing_session' && state !== 'client_id_in_use') {
    delete next.conflictAt;
    delete next.conflictOwn;
  }
  return next;
}

function onIbCode(
  current: SupervisorState,
  event: Extract<GatewayEvent, { type: 'ib_code' }>,
): SupervisorState {
  const detail = event.own ? event.message : `${event.source}: ${event.message}`;
  switch (event.code) {
    case 1100:
    case 2110:
      return {
        ...enter(current, 'broker_disconnected', event.at, { code: event.code, detail }),
        brokerDownSince: current.brokerDownSince ?? event.at,
      };
    case 1101:
      return enter(current, 'restored_data_lost', event.at, { code: event.code, detail });
    case 1102:
      return enter(current, 'restored_data_kept', event.at, { code: event.code, detail });
    case 10197:
    case 326:
      return {
        ...enter(current, event.code === 326 ? 'client_id_in_use' : 'competing_session', event.at, {
          code: event.code,
          detail,
        }),
        conflictAt: event.at,
        conflictOwn: event.own && event.code === 326,
      };
    default:
      return current;
  }
}

function onProbe(current: SupervisorState, event: Extract<GatewayEvent, { type: 'probe' }>): SupervisorState {
  const probed: SupervisorState = {
    ...current,
    ready: event.ok,
    lastProbeAt: event.at,
    probeLatencyMs: event.latencyMs,
  };
  if (event.ok)
    return current.state === 'unknown' || NOT_LOGGED_IN.has(current.state)
      ? enter(probed, 'logged_in', event.at, { detail: event.detail })
      : probed;
  switch (event.failure) {
    case 'unreachable':
      return enter(probed, 'unreachable', event.at, { detail: event.detail });
    case 'no_session':
      // IBGA's relay answers but no gateway is logged in behind it; 2FA and the weekly re-auth say more.
      return probed.state === 'two_factor_pending' || probed.state === 'reauthentication_overdue'
        ? probed
        : enter(probed, 'logged_out', event.at, { detail: event.detail });
    case 'client_id_in_use':
      return {
        ...enter(probed, 'client_id_in_use', event.at, { code: 326, detail: event.detail }),
        conflictAt: event.at,
      };
    case 'broker_disconnected':
      return probed.state === 'broker_disconnected'
        ? probed
        : {
            ...enter(probed, 'broker_disconnected', event.at, { detail: event.detail }),
            brokerDownSince: event.at,
          };
    default:
      return probed; // no answer in time: logged in but slow or stuck; readiness alerts, the state stays
  }
}

/** Time-driven transitions and the derived flags, applied after every event. */
function settle(current: SupervisorState, at: number, rules: SupervisorRules): SupervisorState {
  let next = current;
  if (
    (next.state === 'restored_data_lost' || next.state === 'restored_data_kept') &&
    at - next.since >= rules.restoredSettleMs
  )
    next = enter(next, 'logged_in', at, {
      detail: `link restored ${Math.round((at - next.since) / 1000)} s ago`,
    });
  if (
    (next.state === 'competing_session' || next.state === 'client_id_in_use') &&
    !next.conflictOwn &&
    at - (next.conflictAt ?? next.since) >= rules.conflictHoldMs
  )
    next = enter(next, next.ready ? 'logged_in' : 'logged_out', at, {
      detail: 'no conflict reported lately',
    });

  const phase = weeklyReauthPhase(rules.weeklyReauth, at, next.lastLoginAt);
  if (phase === 'overdue' && (NOT_LOGGED_IN.has(next.state) || next.state === 'unknown'))
    next = enter(next, 'reauthentication_overdue', at, {
      detail: "not logged in again since IBKR's Sunday token reset, and the deadline has passed",
    });
  else if (phase !== 'overdue' && next.state === 'reauthentication_overdue')
    next = enter(next, next.ready ? 'logged_in' : 'logged_out', at);
  else if (phase === 'expected' && next.state === 'logged_out' && next.detail === undefined)
    next = { ...next, detail: "expected: weekly re-authentication after IBKR's Sunday token reset" };

  const windows = activeResetWindows(rules.resetWindows, rules.region, at);
  const inResetWindow = windows.length > 0;
  const escalated =
    next.state === 'broker_disconnected' &&
    !inResetWindow &&
    at - (next.brokerDownSince ?? next.since) > rules.disconnectGraceMs;
  const resetWindow = windows[0]?.name;
  if (
    next.inResetWindow === inResetWindow &&
    next.escalated === escalated &&
    next.resetWindow === resetWindow
  )
    return next;
  return { ...next, inResetWindow, escalated, resetWindow };
}

export function nextState(
  current: SupervisorState,
  event: GatewayEvent,
  rules: SupervisorRules,
): SupervisorState {
  let next: SupervisorState;
  switch (event.type) {
    case 'session_ready':
      next =
        current.state === 'competing_session' ||
        (current.state === 'client_id_in_use' && !current.conflictOwn)
          ? { ...current, accounts: [...event.accounts] }
          : { ...enter(current, 'logged_in', event.at), accounts: [...event.accounts] };
      break;
    case 'ib_code':
      next = onIbCode(current, event);
      break;
    case 'probe':
      next = onProbe(current, event);
      break;
    case 'log_line': {
      const pattern = matchLogLine(rules.logPatterns, event.line);
      // The gateway's own words say more than a probe's: a log line always sets the detail.
      const detail = pattern?.detail ?? event.line.trim();
      next = pattern
        ? {
            ...enter(current, pattern.state, event.at, { detail }),
            detail,
            ...(pattern.state === 'competing_session' ? { conflictAt: event.at, conflictOwn: false } : {}),
          }
        : current;
      break;
    }
    case 'tick':
      next = current;
      break;
  }
  return settle(next, event.at, rules);
}
