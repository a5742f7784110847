/**
 * What the bot tells a chat when something happens, as Telegram HTML. Pure: events in, text out; the
 * decision whether an event is worth a message at all lives here too (a gateway heartbeat is not).
 */
import type {
  Fill,
  GatewayHealth,
  GatewaySessionState,
  OrderEvent,
  ReconciliationResult,
  SystemEvent,
  TradingState,
} from '@ibstack/contracts';
import Decimal from 'decimal.js';

import {
  clip,
  type Clock,
  duration,
  escapeHtml,
  fitMessage,
  money,
  quantity,
  signedMoney,
  when,
} from './text';

/**
 * Free text from elsewhere (a reason typed at the CLI, IB's message, a service's event) is clipped to this
 * many characters, so the notice stays under Telegram's limit and reaches the chat.
 */
export const MAX_FREE_TEXT = 600;

/** Fill lines listed one by one in a batch; the rest are in the totals above them. */
export const MAX_FILL_LINES = 20;

const sideIcon = (side: string) => (side === 'BUY' ? '🟢' : '🔴');

function fillLine(fill: Fill, clock: Clock): string {
  return `${when(fill.ts, clock)} ${fill.side} ${quantity(fill.quantity)} ${escapeHtml(fill.instrument)} @ ${escapeHtml(fill.price)}${fill.sleeve ? ` · ${escapeHtml(fill.sleeve)}` : ''}`;
}

/**
 * One fill, or a burst of them as one message: totals per instrument and side first (quantity, average
 * price, count), then the fills themselves up to `MAX_FILL_LINES`.
 */
export function fillsNotice(fills: readonly Fill[], clock: Clock): string {
  if (fills.length === 1) {
    const fill = fills[0]!;
    const commission =
      fill.commission !== undefined
        ? ` · commission ${money(fill.commission)}${fill.commissionCurrency ? ` ${escapeHtml(fill.commissionCurrency)}` : ''}`
        : '';
    return [
      `${sideIcon(fill.side)} <b>Filled</b> ${fill.side} ${quantity(fill.quantity)} <b>${escapeHtml(fill.instrument)}</b> @ ${escapeHtml(fill.price)}`,
      `${fill.sleeve ? `sleeve ${escapeHtml(fill.sleeve)} · ` : ''}order ${fill.brokerOrderId}${commission} · ${when(fill.ts, clock)}`,
    ].join('\n');
  }
  const groups = new Map<
    string,
    { side: string; instrument: string; quantity: Decimal; notional: Decimal; count: number; places: number }
  >();
  for (const fill of fills) {
    const key = `${fill.instrument}|${fill.side}`;
    const group = groups.get(key) ?? {
      side: fill.side,
      instrument: fill.instrument,
      quantity: new Decimal(0),
      notional: new Decimal(0),
      count: 0,
      places: 0,
    };
    group.quantity = group.quantity.plus(fill.quantity);
    group.notional = group.notional.plus(new Decimal(fill.quantity).times(fill.price));
    group.count += 1;
    group.places = Math.max(group.places, fill.price.split('.')[1]?.length ?? 0);
    groups.set(key, group);
  }
  const lines = [`<b>${fills.length} fills</b>`];
  for (const group of groups.values()) {
    // The average at the precision the prices came in, so it reads like them.
    const average = group.notional.dividedBy(group.quantity).toDecimalPlaces(group.places);
    lines.push(
      `${sideIcon(group.side)} ${group.side} ${quantity(group.quantity)} <b>${escapeHtml(group.instrument)}</b> avg ${average.toFixed(group.places)} (${group.count} fill${group.count === 1 ? '' : 's'})`,
    );
  }
  const sorted = [...fills].sort((a, b) => a.ts.localeCompare(b.ts));
  lines.push('');
  for (const fill of sorted.slice(0, MAX_FILL_LINES)) lines.push(fillLine(fill, clock));
  if (sorted.length > MAX_FILL_LINES)
    lines.push(`… and ${sorted.length - MAX_FILL_LINES} more (in the totals above)`);
  return fitMessage(lines);
}

/** Order events worth a message of their own: the broker said no. */
export function isRejection(event: OrderEvent): boolean {
  return event.status === 'rejected';
}

export function rejectionNotice(event: OrderEvent, clock: Clock): string {
  return [
    `⛔ <b>Order rejected</b> ${event.side} ${quantity(event.quantity)} <b>${escapeHtml(event.instrument)}</b>`,
    `${event.errorCode !== undefined ? `IB ${event.errorCode}: ` : ''}${escapeHtml(clip(event.reason ?? 'no reason given', MAX_FREE_TEXT))}`,
    `${event.sleeve ? `sleeve ${escapeHtml(event.sleeve)} · ` : ''}order ${event.brokerOrderId} · ${when(event.ts, clock)}`,
  ].join('\n');
}

const STATE_ICON = { RUNNING: '✅', HALTED: '🛑', REDUCING: '🟡' } as const;

export function tradingStateNotice(state: TradingState, clock: Clock): string {
  const headline =
    state.state === 'HALTED'
      ? 'Trading HALTED'
      : state.state === 'RUNNING'
        ? 'Trading RUNNING'
        : 'Trading REDUCING (closing orders only)';
  return [
    `${STATE_ICON[state.state]} <b>${headline}</b>`,
    `reason: ${escapeHtml(clip(state.reason, MAX_FREE_TEXT))}`,
    `by ${escapeHtml(clip(state.by, 200))} · ${when(state.at, clock)}`,
    ...(state.state === 'HALTED'
      ? ['No order is placed until an operator sends /resume &lt;reason&gt;.']
      : []),
  ].join('\n');
}

/** Mismatches listed one by one; a reconciliation with more says how many more. */
const MAX_MISMATCH_LINES = 10;

export function reconciliationNotice(result: ReconciliationResult, clock: Clock): string {
  const lines = [
    `⚠️ <b>Reconciliation: ${result.mismatches.length} mismatch${result.mismatches.length === 1 ? '' : 'es'}</b> with the broker (${result.trigger}, ${when(result.finishedAt, clock)})`,
  ];
  for (const mismatch of result.mismatches.slice(0, MAX_MISMATCH_LINES)) {
    const figures =
      mismatch.local !== undefined || mismatch.broker !== undefined
        ? ` (ours ${escapeHtml(mismatch.local ?? '-')}, broker ${escapeHtml(mismatch.broker ?? '-')})`
        : '';
    lines.push(
      `• ${escapeHtml(mismatch.kind)}${mismatch.instrument ? ` ${escapeHtml(mismatch.instrument)}` : ''}${figures}: ${escapeHtml(clip(mismatch.detail, 300))}`,
    );
  }
  if (result.mismatches.length > MAX_MISMATCH_LINES)
    lines.push(`… and ${result.mismatches.length - MAX_MISMATCH_LINES} more (npm run status)`);
  lines.push('Execution halts trading on a mismatch; check, then /resume &lt;reason&gt;.');
  return fitMessage(lines);
}

/** The result of a reconciliation an operator asked for, clean or not. */
export function reconciliationReply(result: ReconciliationResult, clock: Clock): string {
  if (!result.ok) return reconciliationNotice(result, clock);
  return `✅ <b>Reconciliation clean</b>: ${result.positionsChecked} positions, ${result.openOrdersChecked} open orders, ${result.executionsChecked} executions checked (${when(result.finishedAt, clock)})`;
}

const TROUBLE: ReadonlySet<GatewaySessionState> = new Set([
  'unreachable',
  'logged_out',
  'two_factor_pending',
  'broker_disconnected',
  'competing_session',
  'client_id_in_use',
  'reauthentication_overdue',
]);

const GATEWAY_TEXT: Readonly<Record<GatewaySessionState, string>> = {
  unknown: 'state unknown',
  unreachable: '🔌 <b>Gateway unreachable</b>: no API socket (the gateway process or its relay is down).',
  logged_out: '🔒 <b>Gateway logged out</b> of IBKR.',
  two_factor_pending:
    '🔐 <b>Two-factor approval pending</b>: approve the IB Gateway login on IBKR Mobile (or check the TOTP secret).',
  logged_in: '✅ <b>Gateway logged in</b>.',
  broker_disconnected:
    "📡 <b>Gateway lost IBKR's servers</b> (1100): no data and no orders until it reconnects.",
  restored_data_lost: '📡 <b>Gateway reconnected</b> (1101): market data was lost and is subscribed again.',
  restored_data_kept: '📡 <b>Gateway reconnected</b> (1102): market data kept.',
  competing_session:
    '⚠️ <b>Competing session</b>: someone logged in to IBKR with the same user (TWS, Client Portal or the mobile app), and the gateway lost its session. Log that session out.',
  client_id_in_use: '⚠️ <b>Client id in use</b> (326): another program holds our API client id.',
  reauthentication_overdue:
    "⚠️ <b>Weekly re-authentication needed</b>: the gateway is not logged in after IBKR's weekly reset. Log in (and approve 2FA) before the market opens.",
};

/**
 * A gateway message worth telling: a troubled state, or a recovery from one. `key` identifies the
 * change, so the supervisor's heartbeats repeating a state are told once.
 */
export function gatewayNotice(health: GatewayHealth, clock: Clock): { key: string; text: string } | null {
  const recovering =
    !TROUBLE.has(health.state) &&
    health.state !== 'unknown' &&
    (health.state !== 'logged_in' || (health.previous !== undefined && TROUBLE.has(health.previous)));
  if (!TROUBLE.has(health.state) && !recovering) return null;
  const lines = [GATEWAY_TEXT[health.state]];
  if (health.state === 'broker_disconnected' && health.inResetWindow)
    lines.push("Expected: this is inside IBKR's daily reset window.");
  const facts = [`since ${when(health.since, clock)}`];
  if (health.previous && health.previous !== 'unknown')
    facts.push(`was ${health.previous.replace(/_/g, ' ')}`);
  if (health.code !== undefined) facts.push(`IB ${health.code}`);
  if (health.lastLoginAt) facts.push(`last login ${when(health.lastLoginAt, clock)}`);
  lines.push(`${facts.join(' · ')} · ${health.tradingMode}`);
  if (health.detail) lines.push(escapeHtml(clip(health.detail, MAX_FREE_TEXT)));
  return { key: `${health.state}:${health.since}`, text: lines.join('\n') };
}

/** `trading_halted` is told by the trading-state notice, with its reason; the rest by severity. */
export function systemNotice(event: SystemEvent, clock: Clock): string | null {
  if (event.code === 'trading_halted') return null;
  const icon = event.severity === 'critical' ? '🚨' : event.severity === 'warning' ? '⚠️' : 'ℹ️';
  return [
    `${icon} <b>${escapeHtml(event.service)}</b>: ${escapeHtml(event.code.replace(/_/g, ' '))}`,
    escapeHtml(clip(event.message, MAX_FREE_TEXT)),
    when(event.ts, clock),
  ].join('\n');
}

export interface DailySummary {
  windowStart: string;
  windowEnd: string;
  timeZone: string;
  accounts: Array<{
    account: string;
    currency: string;
    netLiquidation: string;
    /** NAV at the start of the window, when a snapshot that old exists. */
    openingNetLiquidation: string | null;
    dailyPnl: string;
    drawdownPct: string;
  }>;
  fills: Array<{ instrument: string; side: string; quantity: string; count: number; commission: string }>;
  realizedPnl: string;
  positions: Array<{ account: string; instrument: string; quantity: string; averageCost: string }>;
  tradingState: TradingState | null;
  gateway: GatewayHealth | null;
  reconciliations: { runs: number; mismatching: number };
  notificationsFailed: number;
}

export function dailySummaryNotice(summary: DailySummary, clock: Clock): string {
  const lines = [
    `📊 <b>Daily summary</b> · ${when(summary.windowEnd, clock)} ${escapeHtml(summary.timeZone)} (last 24 h)`,
  ];
  if (summary.accounts.length === 0) lines.push('No account snapshot yet.');
  for (const account of summary.accounts) {
    const change =
      account.openingNetLiquidation !== null
        ? ` · 24 h ${signedMoney(new Decimal(account.netLiquidation).minus(account.openingNetLiquidation))}`
        : '';
    lines.push(
      `${escapeHtml(account.account)}: NAV ${money(account.netLiquidation)} ${escapeHtml(account.currency)}${change} · today ${signedMoney(account.dailyPnl)} · drawdown ${new Decimal(account.drawdownPct).toFixed(2)}%`,
    );
  }
  const fillCount = summary.fills.reduce((sum, row) => sum + row.count, 0);
  lines.push(
    '',
    `<b>Fills</b>: ${fillCount}${fillCount ? ` · realized ${signedMoney(summary.realizedPnl)}` : ''}`,
  );
  for (const row of summary.fills)
    lines.push(
      `${sideIcon(row.side)} ${row.side} ${quantity(row.quantity)} ${escapeHtml(row.instrument)} (${row.count}) · commission ${money(row.commission)}`,
    );
  lines.push('', `<b>Positions</b>: ${summary.positions.length === 0 ? 'flat' : summary.positions.length}`);
  for (const position of summary.positions)
    lines.push(
      `${escapeHtml(position.instrument)} ${quantity(position.quantity)} avg ${escapeHtml(position.averageCost)}`,
    );
  const state = summary.tradingState;
  lines.push(
    '',
    `Trading: ${state ? `${state.state} (${escapeHtml(clip(state.reason, 200))})` : 'RUNNING'}`,
    `Gateway: ${summary.gateway ? `${summary.gateway.state.replace(/_/g, ' ')} since ${when(summary.gateway.since, clock)}` : 'no report from the gateway supervisor'}`,
    `Reconciliation: ${summary.reconciliations.runs} runs, ${summary.reconciliations.mismatching === 0 ? 'all clean' : `<b>${summary.reconciliations.mismatching} with mismatches</b>`}`,
  );
  if (summary.notificationsFailed > 0)
    lines.push(
      `⚠️ ${summary.notificationsFailed} notifications could not be delivered (see the notifier's log).`,
    );
  return fitMessage(lines);
}

export function reauthReminderNotice(gateway: GatewayHealth | null, clock: Clock): string {
  const lines = [
    '🔔 <b>Weekly IBKR re-authentication</b>',
    'IBKR ends every session once a week. Unless the gateway logs in with a TOTP secret, approve its login on IBKR Mobile before the market opens.',
  ];
  if (gateway) {
    const since = duration(clock.now - Date.parse(gateway.since));
    lines.push(
      `Gateway now: ${gateway.state.replace(/_/g, ' ')} for ${since}${gateway.lastLoginAt ? ` · last login ${when(gateway.lastLoginAt, clock)}` : ''}`,
    );
  } else lines.push('Gateway now: no report from the gateway supervisor.');
  return lines.join('\n');
}
