import pc from 'picocolors';

import type { StackStatus } from '@ibstack/operator';

function table(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, column) =>
    Math.max(...rows.map((row) => stripAnsi(row[column] ?? '').length)),
  );
  return rows.map(
    (row) =>
      '  ' +
      row
        .map((cell, column) => cell + ' '.repeat(widths[column]! - stripAnsi(cell).length))
        .join('  ')
        .trimEnd(),
  );
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

function money(value: string): string {
  const number = Number(value);
  const text = number.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return number < 0 ? pc.red(text) : number > 0 ? pc.green(text) : text;
}

/** One screen: what runs, whether it may trade, what it holds, and whether its books agree with IB's. */
export function renderStatus(status: StackStatus): string {
  const lines: string[] = [pc.bold(`ibstack status  ${status.at}`), ''];

  lines.push(pc.bold('Services'));
  lines.push(
    ...table(
      status.services.map((service) => [
        service.name,
        service.state === 'ready'
          ? pc.green('ready')
          : service.state === 'down'
            ? pc.red('down')
            : pc.yellow('not ready'),
        service.gatewayConnected === null
          ? ''
          : service.gatewayConnected
            ? 'gateway connected'
            : pc.red('gateway disconnected'),
        pc.dim(service.detail || service.url),
      ]),
    ),
  );

  lines.push('', pc.bold('Trading'));
  const state = status.tradingState;
  const executionUp = status.services.some(
    (service) => service.name === 'execution' && service.state === 'ready',
  );
  const stateText = !state
    ? `${pc.green('RUNNING')} ${pc.dim('(no state set: the default)')}`
    : `${state.state === 'RUNNING' ? pc.green(state.state) : state.state === 'HALTED' ? pc.bgRed(pc.white(` ${state.state} `)) : pc.yellow(state.state)}  ${state.reason}  ${pc.dim(`by ${state.by} at ${state.at}`)}`;
  lines.push(`  state   ${stateText}`);
  if (!executionUp)
    lines.push(
      `          ${pc.yellow('execution is not ready: no order is placed, whatever the state says')}`,
    );
  lines.push(
    `  lease   ${status.lease ? `${status.lease.holder} ${pc.dim(`(epoch ${status.lease.epoch}, renewed ${status.lease.renewedAt})`)}` : pc.yellow('no holder: nothing can place orders')}`,
  );

  lines.push('', pc.bold('Instruments'));
  lines.push(
    ...(status.instruments.length === 0
      ? ['  none yet']
      : table(
          status.instruments.map((row) => [
            row.instrument,
            row.bid && row.ask ? `${row.bid} / ${row.ask}` : pc.dim('no tick'),
            row.staleSeconds === null
              ? ''
              : row.staleSeconds > 60
                ? pc.red(`${row.staleSeconds} s ago`)
                : `${row.staleSeconds} s ago`,
          ]),
        )),
  );

  lines.push('', pc.bold(`Open orders (${status.openOrders.length})`));
  lines.push(
    ...table(
      status.openOrders.map((order) => [
        String(order.brokerOrderId ?? '-'),
        order.sleeve ?? pc.dim('adopted'),
        order.instrument,
        order.side,
        `${order.filled}/${order.quantity}`,
        order.status,
      ]),
    ),
  );

  lines.push('', pc.bold('Recent fills'));
  lines.push(
    ...(status.recentFills.length === 0
      ? ['  none yet']
      : table(
          status.recentFills.map((fill) => [
            pc.dim(fill.at),
            fill.sleeve ?? pc.dim('no intent'),
            fill.instrument,
            fill.side,
            fill.quantity,
            `@ ${fill.price}`,
            fill.commission === null ? '' : pc.dim(`commission ${fill.commission}`),
          ]),
        )),
  );

  lines.push('', pc.bold(`Positions (${status.positions.length})`));
  lines.push(
    ...table(
      status.positions.map((p) => [
        p.account,
        p.instrument,
        p.quantity,
        `avg ${p.averageCost}`,
        `realized ${money(p.realizedPnl)}`,
      ]),
    ),
  );

  lines.push('', pc.bold('Today'));
  lines.push(
    status.account
      ? `  NAV ${money(status.account.netLiquidation)}  daily P&L ${money(status.account.dailyPnl)} (${status.account.dailyReturnPct}%)  drawdown ${status.account.drawdownPct}%  ${snapshotAge(status.at, status.account.at)}`
      : '  no account snapshot yet',
  );

  lines.push('', pc.bold('Last reconciliation'));
  const run = status.lastReconciliation;
  if (!run) lines.push('  none yet');
  else {
    lines.push(
      `  ${run.ok ? pc.green('clean') : pc.red(`${run.mismatches.length} mismatch(es)`)}  ${run.trigger}  ${pc.dim(run.at)}`,
    );
    for (const mismatch of run.mismatches.slice(0, 5))
      lines.push(`    - ${mismatch.kind}: ${mismatch.detail}`);
  }

  if (status.problems.length > 0) {
    lines.push('', pc.bold(pc.yellow('Could not see')));
    for (const problem of status.problems) lines.push(`  - ${problem}`);
  }
  return lines.join('\n');
}

/** The snapshot's time, flagged when it is too old to describe the account now. */
function snapshotAge(now: string, at: string): string {
  const seconds = Math.round((Date.parse(now) - Date.parse(at)) / 1000);
  return seconds > STALE_SNAPSHOT_SECONDS
    ? pc.red(`as of ${at} (${seconds} s ago: stale)`)
    : pc.dim(`as of ${at}`);
}

/** Execution records a snapshot every few seconds while it is connected. */
const STALE_SNAPSHOT_SECONDS = 120;
