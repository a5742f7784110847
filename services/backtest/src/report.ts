/** Writes a backtest's report: trades, intents, equity curve, statistics and the chart. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { BacktestResult } from './backtest';
import { backtestChartPng } from './chart';

export interface ReportFiles {
  trades: string;
  intents: string;
  equity: string;
  summary: string;
  chart: string;
}

const csvCell = (value: string | number | undefined | null) => {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};
const csv = (header: string[], rows: Array<Array<string | number | undefined | null>>) =>
  [header.join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\n') + '\n';

export function writeReport(
  result: BacktestResult,
  options: { outDir: string; title: string; run: Record<string, unknown> },
): ReportFiles {
  mkdirSync(options.outDir, { recursive: true });
  const files: ReportFiles = {
    trades: join(options.outDir, 'trades.csv'),
    intents: join(options.outDir, 'intents.csv'),
    equity: join(options.outDir, 'equity.csv'),
    summary: join(options.outDir, 'summary.json'),
    chart: join(options.outDir, 'chart.png'),
  };
  writeFileSync(
    files.trades,
    csv(
      [
        'time',
        'sleeve',
        'instrument',
        'side',
        'quantity',
        'price',
        'commission_usd',
        'realized_pnl_usd',
        'intent_id',
        'exec_id',
      ],
      result.trades.map(({ fill, sleeve, commissionUsd, realizedPnlUsd }) => [
        fill.ts,
        sleeve,
        fill.instrument,
        fill.side,
        fill.quantity,
        fill.price,
        commissionUsd,
        realizedPnlUsd,
        fill.intentId,
        fill.execId,
      ]),
    ),
  );
  writeFileSync(
    files.intents,
    csv(
      [
        'bar_ts',
        'created_at',
        'sleeve',
        'instrument',
        'side',
        'quantity',
        'order_type',
        'reference_price',
        'status',
        'risk_reason',
        'reason',
        'intent_id',
      ],
      result.intents.map(({ intent, status, riskReason }) => [
        intent.barTs,
        intent.createdAt,
        intent.sleeve,
        intent.instrument,
        intent.side,
        intent.quantity,
        intent.orderType,
        intent.referencePrice,
        status,
        riskReason,
        intent.reason,
        intent.intentId,
      ]),
    ),
  );
  const equityRows: string[] = ['time,equity_usd'];
  for (let i = 0; i < result.equity.times.length; i++)
    equityRows.push(
      `${new Date(result.equity.times[i]!).toISOString()},${result.equity.values[i]!.toFixed(2)}`,
    );
  writeFileSync(files.equity, `${equityRows.join('\n')}\n`);
  writeFileSync(
    files.summary,
    `${JSON.stringify(
      {
        ...options.run,
        barsReplayed: result.barsReplayed,
        statistics: result.statistics,
        intents: {
          accepted: result.intents.filter((i) => i.status === 'accepted').length,
          blocked: result.intents.filter((i) => i.status === 'blocked').length,
        },
        rejectedByVenue: result.rejections,
        pausedSleeves: result.paused,
        tradingStateChanges: result.tradingStateChanges.map(({ state, reason, by, at }) => ({
          at,
          state,
          reason,
          by,
        })),
        systemEvents: result.systemEvents.map((e) => ({ ts: e.ts, code: e.code, message: e.message })),
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(files.chart, backtestChartPng(result, options.title));
  return files;
}

/** The statistics as a few aligned lines for the terminal. */
export function summaryLines(result: BacktestResult): string[] {
  const s = result.statistics;
  const pct = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(2)}%`);
  const rows: Array<[string, string]> = [
    ['bars replayed', String(result.barsReplayed)],
    ['start equity', `${s.initialEquityUsd.toFixed(2)} USD`],
    ['end equity', `${s.finalEquityUsd.toFixed(2)} USD`],
    ['return', pct(s.totalReturnPct)],
    ['max drawdown', pct(s.maxDrawdownPct)],
    ['Sharpe (daily, √252)', s.sharpe === null ? 'n/a (under two days)' : s.sharpe.toFixed(2)],
    ['win rate', `${pct(s.winRatePct)} of ${s.closingFills} closing fills`],
    ['exposure', pct(s.exposurePct)],
    ['fills', String(s.fills)],
    ['commissions', `${s.commissionsUsd.toFixed(2)} USD`],
    [
      'intents',
      `${result.intents.filter((i) => i.status === 'accepted').length} accepted, ${result.intents.filter((i) => i.status === 'blocked').length} blocked by risk`,
    ],
  ];
  if (result.paused.length > 0) rows.push(['paused sleeves', result.paused.map((p) => p.sleeve).join(', ')]);
  // Why a run stopped trading part of the way through (most often the drawdown rule's switch to REDUCING).
  for (const change of result.tradingStateChanges)
    rows.push(['trading state', `${change.state} from ${change.at} (${change.reason})`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
}
