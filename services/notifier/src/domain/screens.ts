/**
 * The answers to the bot's read commands, as Telegram HTML sized for a phone: the status screen of
 * `npm run status` made compact, and one screen per part.
 */
import type { GatewayHealth } from '@ibstack/contracts';
import type { AccountFigures, OpenOrder, OpenPosition, RecentFill, StackStatus } from '@ibstack/operator';
import Decimal from 'decimal.js';

import type { Role } from './chats';
import { COMMANDS, mayRun } from './commands';
import { type Levels, NOTIFICATION_DESCRIPTIONS, NOTIFICATIONS } from './notifications';
import {
  clip,
  type Clock,
  columns,
  duration,
  escapeHtml,
  fitMessage,
  money,
  quantity,
  signedMoney,
  when,
} from './text';

/** Snapshots older than this no longer describe the account now (execution records one every few seconds). */
const STALE_SNAPSHOT_MS = 120_000;

function stateLine(status: StackStatus, clock: Clock): string {
  const state = status.tradingState;
  if (!state) return 'Trading: ✅ RUNNING (no state set: the default)';
  const icon = state.state === 'RUNNING' ? '✅' : state.state === 'HALTED' ? '🛑' : '🟡';
  return `Trading: ${icon} <b>${state.state}</b> · ${escapeHtml(clip(state.reason, 300))} (${escapeHtml(clip(state.by, 200))}, ${when(state.at, clock)})`;
}

function gatewayLine(gateway: GatewayHealth | null, status: StackStatus | null, clock: Clock): string {
  if (gateway)
    return `Gateway: ${gateway.state === 'logged_in' ? '✅' : '⚠️'} ${gateway.state.replace(/_/g, ' ')} for ${duration(clock.now - Date.parse(gateway.since))}${gateway.lastLoginAt ? ` · last login ${when(gateway.lastLoginAt, clock)}` : ''}`;
  const connected = status?.services.find((service) => service.gatewayConnected !== null)?.gatewayConnected;
  return `Gateway: ${connected === undefined || connected === null ? 'unknown' : connected ? '✅ connected' : '⚠️ disconnected'} (no supervisor report)`;
}

export function statusScreen(status: StackStatus, gateway: GatewayHealth | null, clock: Clock): string {
  const lines = [
    `<b>ibstack</b> · ${when(status.at, clock)}`,
    stateLine(status, clock),
    gatewayLine(gateway, status, clock),
  ];
  const services = status.services
    .map(
      (service) =>
        `${service.name} ${service.state === 'ready' ? '✅' : service.state === 'down' ? '❌' : '⏳'}`,
    )
    .join(' · ');
  lines.push(`Services: ${services}`);
  if (!status.services.some((service) => service.name === 'execution' && service.state === 'ready'))
    lines.push('⚠️ execution is not ready: no order is placed, whatever the state says');
  lines.push(
    `Lease: ${status.lease ? `${escapeHtml(status.lease.holder)} (epoch ${status.lease.epoch})` : '⚠️ no holder: nothing can place orders'}`,
  );
  if (status.account) {
    const age = clock.now - Date.parse(status.account.at);
    lines.push(
      `NAV ${money(status.account.netLiquidation)} · today ${signedMoney(status.account.dailyPnl)} (${new Decimal(status.account.dailyReturnPct).toFixed(2)}%) · drawdown ${new Decimal(status.account.drawdownPct).toFixed(2)}%${age > STALE_SNAPSHOT_MS ? ` · ⚠️ as of ${when(status.account.at, clock)}` : ''}`,
    );
  } else lines.push('NAV: no account snapshot yet');
  lines.push(`Positions: ${status.positions.length} · open orders: ${status.openOrders.length}`);
  const fill = status.recentFills[0];
  if (fill)
    lines.push(
      `Last fill: ${fill.side} ${quantity(fill.quantity)} ${escapeHtml(fill.instrument)} @ ${escapeHtml(fill.price)} (${when(fill.at, clock)})`,
    );
  const run = status.lastReconciliation;
  lines.push(
    `Reconciliation: ${run ? `${run.ok ? '✅ clean' : `⚠️ ${run.mismatches.length} mismatches`} (${escapeHtml(run.trigger)}, ${when(run.at, clock)})` : 'none yet'}`,
  );
  for (const row of status.instruments)
    lines.push(
      `${escapeHtml(row.instrument)}: ${row.bid && row.ask ? `${escapeHtml(row.bid)} / ${escapeHtml(row.ask)}` : 'no tick'}${row.staleSeconds !== null ? ` (${row.staleSeconds > 60 ? '⚠️ ' : ''}${duration(row.staleSeconds * 1000)} ago)` : ''}`,
    );
  if (status.problems.length > 0)
    lines.push('', '<b>Could not see</b>', ...status.problems.map((p) => `• ${escapeHtml(p)}`));
  return fitMessage(lines);
}

export function positionsScreen(positions: readonly OpenPosition[]): string {
  if (positions.length === 0) return '<b>Positions</b>: flat';
  const accounts = new Set(positions.map((position) => position.account));
  return fitMessage([
    `<b>Positions</b> (${positions.length})`,
    '<pre>',
    ...columns(
      positions.map((p) => [
        ...(accounts.size > 1 ? [p.account] : []),
        p.instrument,
        quantity(p.quantity),
        `avg ${p.averageCost}`,
        `realized ${money(p.realizedPnl)}`,
      ]),
    ),
    '</pre>',
  ]);
}

export function ordersScreen(orders: readonly OpenOrder[]): string {
  if (orders.length === 0) return '<b>Open orders</b>: none';
  return fitMessage([
    `<b>Open orders</b> (${orders.length})`,
    '<pre>',
    ...columns(
      orders.map((order) => [
        String(order.brokerOrderId ?? '-'),
        order.sleeve ?? 'adopted',
        order.instrument,
        order.side,
        `${quantity(order.filled)}/${quantity(order.quantity)}`,
        order.status,
      ]),
    ),
    '</pre>',
  ]);
}

export function tradesScreen(fills: readonly RecentFill[], clock: Clock): string {
  if (fills.length === 0) return '<b>Fills</b>: none yet';
  return fitMessage([
    `<b>Last ${fills.length} fills</b> (newest first)`,
    '<pre>',
    ...columns(
      fills.map((fill) => [
        when(fill.at, clock),
        fill.side,
        quantity(fill.quantity),
        fill.instrument,
        `@ ${fill.price}`,
        fill.sleeve ?? '',
      ]),
    ),
    '</pre>',
  ]);
}

export function balanceScreen(accounts: readonly AccountFigures[], clock: Clock): string {
  if (accounts.length === 0)
    return '<b>Balance</b>: no account snapshot yet (execution records one once connected)';
  const lines: string[] = [];
  for (const a of accounts) {
    const stale = clock.now - Date.parse(a.at) > STALE_SNAPSHOT_MS;
    lines.push(
      `<b>${escapeHtml(a.account)}</b> (${escapeHtml(a.currency)}) · ${stale ? '⚠️ ' : ''}as of ${when(a.at, clock)}`,
      `NAV ${money(a.netLiquidation)} · cash ${money(a.cash)}`,
      `P&amp;L today ${signedMoney(a.dailyPnl)} (${new Decimal(a.dailyReturnPct).toFixed(2)}%) · realized ${signedMoney(a.realizedPnl)} · unrealized ${signedMoney(a.unrealizedPnl)}`,
      `High-water mark ${money(a.highWaterMark)} · drawdown ${new Decimal(a.drawdownPct).toFixed(2)}%`,
      '',
    );
  }
  return fitMessage(lines.slice(0, -1));
}

export interface PnlToday {
  accounts: readonly AccountFigures[];
  /** Realized P&L and commissions of today's fills (since the 17:00 New York roll). */
  realizedPnl: string;
  commissions: string;
  fills: number;
  dayStart: string;
  days: number;
}

export function pnlScreen(pnl: PnlToday, clock: Clock): string {
  const lines = [`<b>P&amp;L today</b> (trading day since ${when(pnl.dayStart, clock)})`];
  if (pnl.accounts.length === 0) lines.push('No account snapshot yet.');
  for (const a of pnl.accounts)
    lines.push(
      `${escapeHtml(a.account)}: ${signedMoney(a.dailyPnl)} ${escapeHtml(a.currency)} (${new Decimal(a.dailyReturnPct).toFixed(2)}%) · NAV ${money(a.netLiquidation)} · drawdown ${new Decimal(a.drawdownPct).toFixed(2)}%`,
    );
  lines.push(
    `Fills today: ${pnl.fills} · realized ${signedMoney(pnl.realizedPnl)} · commissions ${money(pnl.commissions)}`,
  );
  return fitMessage(lines);
}

export function gatewayScreen(
  gateway: GatewayHealth | null,
  status: StackStatus | null,
  clock: Clock,
): string {
  if (!gateway)
    return [
      '<b>Gateway</b>',
      gatewayLine(null, status, clock),
      'The gateway supervisor publishes the session state (2FA pending, last login); none has been seen yet.',
    ].join('\n');
  const lines = [
    `<b>Gateway</b> · ${gateway.tradingMode}`,
    `State: ${gateway.state === 'logged_in' ? '✅' : '⚠️'} <b>${gateway.state.replace(/_/g, ' ')}</b> since ${when(gateway.since, clock)} (${duration(clock.now - Date.parse(gateway.since))})`,
    `Two-factor pending: ${gateway.state === 'two_factor_pending' ? '<b>yes</b>: approve the login on IBKR Mobile' : 'no'}`,
    `Last login: ${gateway.lastLoginAt ? when(gateway.lastLoginAt, clock) : 'unknown'}`,
    `API probe: ${gateway.ready ? 'ready' : 'not ready'}${gateway.probeLatencyMs !== undefined ? ` (${Math.round(gateway.probeLatencyMs)} ms)` : ''}${gateway.lastProbeAt ? ` at ${when(gateway.lastProbeAt, clock)}` : ''}`,
  ];
  if (gateway.inResetWindow) lines.push("Inside IBKR's daily reset window: disconnects are expected.");
  if (gateway.previous && gateway.previous !== 'unknown')
    lines.push(`Before: ${gateway.previous.replace(/_/g, ' ')}`);
  if (gateway.code !== undefined) lines.push(`IB code: ${gateway.code}`);
  if (gateway.detail) lines.push(escapeHtml(clip(gateway.detail, 600)));
  if (gateway.accounts?.length) lines.push(`Accounts: ${gateway.accounts.map(escapeHtml).join(', ')}`);
  lines.push(`Reported ${when(gateway.ts, clock)}`);
  return lines.join('\n');
}

export function helpScreen(role: Role, levels: Levels): string {
  const lines = [`<b>ibstack bot</b> · this chat's role: <b>${role}</b>`, ''];
  for (const command of COMMANDS) {
    if (!mayRun(role, command)) continue;
    lines.push(
      `/${command.name}${command.arguments ? ` ${escapeHtml(command.arguments)}` : ''} — ${escapeHtml(command.description)}`,
    );
  }
  if (role === 'viewer') lines.push('', '/halt, /resume and /reconcile need an operator chat.');
  lines.push('', levelsScreen(levels));
  return lines.join('\n');
}

export function levelsScreen(levels: Levels): string {
  return [
    '<b>Notifications</b> (change with /notify &lt;kind&gt; on|silent|off)',
    ...NOTIFICATIONS.map(
      (name) =>
        `${levels[name] === 'on' ? '🔔' : levels[name] === 'silent' ? '🔕' : '⛔'} ${name}: ${levels[name]} — ${escapeHtml(NOTIFICATION_DESCRIPTIONS[name])}`,
    ),
  ].join('\n');
}
