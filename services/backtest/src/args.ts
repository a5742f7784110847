/** The backtest's command line, checked: every problem names the argument. */
import { parseArgs } from 'node:util';

import { BacktestArgumentError } from './errors';

export interface BacktestArgs {
  sleevesFile: string;
  fromMs: number;
  toMs: number;
  /** A CSV file of bars; Postgres (DATABASE_URL) when absent. */
  barsFile: string | undefined;
  outDir: string;
  /** Starting cash in USD; the sum of the sleeves' capital when absent. */
  cashUsd: number | undefined;
}

export const USAGE = `usage: npm run backtest -- --sleeves <file> --from <date> [--to <date>] [--bars <file.csv>]
                            [--out <directory>] [--cash <usd>]

  --sleeves  the sleeves file (YAML or JSON), as the strategy service reads it
  --from     first bar to replay: an ISO date or time (2026-11-01, 2026-11-01T14:30Z)
  --to       end of the replay, exclusive (default: now)
  --bars     bars from a CSV file (ts,instrument,open,high,low,close[,volume][,timeframe]);
             without it, from the stack's Postgres (DATABASE_URL)
  --out      where the report goes (default: backtest-results/<sleeves file>-<from>-<to>)
  --cash     the simulated account's starting cash in USD (default: the sleeves' capital summed)`;

function parseDate(argument: string, text: string): number {
  const trimmed = text.trim();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(iso) ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new BacktestArgumentError(
      argument,
      `"${text}" is not a date (use 2026-11-01 or 2026-11-01T14:30Z)`,
    );
  return ms;
}

export function parseBacktestArgs(argv: readonly string[], now: number): BacktestArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        sleeves: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        bars: { type: 'string' },
        out: { type: 'string' },
        cash: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // node's messages name the option ("Unknown option '--form'", "Option '--from <value>' argument missing").
    const message = (error as Error).message;
    const named = /'(--[a-z-]+)/.exec(message)?.[1] ?? 'arguments';
    throw new BacktestArgumentError(named, message.replace(/\. To specify.*$/s, ''));
  }
  const text = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
  const sleevesFile = text('sleeves');
  if (!sleevesFile) throw new BacktestArgumentError('--sleeves', 'required: the sleeves file to run');
  const fromText = text('from');
  if (!fromText) throw new BacktestArgumentError('--from', 'required: the first day to replay');
  const fromMs = parseDate('--from', fromText);
  const toText = text('to');
  const toMs = toText === undefined ? now : parseDate('--to', toText);
  if (toMs <= fromMs) throw new BacktestArgumentError('--to', `must be after --from (${fromText})`);
  const cashText = text('cash');
  let cashUsd: number | undefined;
  if (cashText !== undefined) {
    cashUsd = Number(cashText);
    if (!/^\d+(\.\d+)?$/.test(cashText.trim()) || !(cashUsd > 0))
      throw new BacktestArgumentError('--cash', `"${cashText}" is not a positive amount of USD`);
  }
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const base = sleevesFile.replace(/^.*\//, '').replace(/\.[^.]*$/, '');
  return {
    sleevesFile,
    fromMs,
    toMs,
    barsFile: text('bars'),
    outDir: text('out') ?? `backtest-results/${base}-${day(fromMs)}-${day(toMs)}`,
    cashUsd,
  };
}
