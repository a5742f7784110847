/**
 * Where a backtest's bars come from: the stack's Postgres `bars` table, or a CSV file. Either way the run
 * gets, per instrument and timeframe the sleeves follow, the bars opening in [from, to) and the warm-up
 * history before `from` each sleeve's strategy asks for.
 */
import { readFileSync } from 'node:fs';

import {
  type Bar,
  type InstrumentKey,
  instrumentKey,
  parseInstrumentSpec,
  Timeframe,
  TIMEFRAME_SECONDS,
} from '@ibstack/contracts';
import type { Database, Kysely } from '@ibstack/db';
import type { SleevesConfig } from '@ibstack/strategy';

import { BacktestArgumentError } from './errors';

/** A bar stream the sleeves follow, and how many bars before `from` its strategies warm up on. */
export interface BarStream {
  instrument: InstrumentKey;
  timeframe: Timeframe;
  warmupBars: number;
}

export function barStreams(sleeves: SleevesConfig): BarStream[] {
  const streams = new Map<string, BarStream>();
  for (const sleeve of sleeves.sleeves) {
    if (!sleeve.enabled) continue;
    const warmup = sleeve.strategy.warmupBars(sleeve.parameters, sleeve.timeframe);
    for (const instrument of sleeve.instruments) {
      const key = `${instrument.key}|${sleeve.timeframe}`;
      const current = streams.get(key);
      streams.set(key, {
        instrument: instrument.key,
        timeframe: sleeve.timeframe,
        warmupBars: Math.max(current?.warmupBars ?? 0, warmup),
      });
    }
  }
  return [...streams.values()];
}

export async function loadBarsFromPostgres(
  db: Kysely<Database>,
  streams: readonly BarStream[],
  fromMs: number,
  toMs: number,
): Promise<Bar[]> {
  const bars: Bar[] = [];
  for (const stream of streams) {
    const base = db
      .selectFrom('bars')
      .selectAll()
      .where('instrument', '=', stream.instrument)
      .where('timeframe', '=', stream.timeframe);
    const history = await base
      .where('ts', '<', new Date(fromMs))
      .orderBy('ts', 'desc')
      .limit(stream.warmupBars)
      .execute();
    const window = await base
      .where('ts', '>=', new Date(fromMs))
      .where('ts', '<', new Date(toMs))
      .orderBy('ts')
      .execute();
    for (const row of [...history.reverse(), ...window]) {
      bars.push({
        v: 1,
        instrument: row.instrument,
        timeframe: row.timeframe as Timeframe,
        ts: row.ts.toISOString(),
        open: row.open,
        high: row.high,
        low: row.low,
        close: row.close,
        volume: row.volume,
        source: row.source === 'live' ? 'live' : 'backfill',
        receivedAt: row.updated_at.toISOString(),
      });
    }
  }
  return bars;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * Bars from a CSV file with a header: `ts,instrument,open,high,low,close` and optionally `volume` and
 * `timeframe`. `ts` is the bar's open time (ISO 8601 or epoch seconds/ms); `instrument` is `EUR.CAD`,
 * `EURCAD` or any spec the sleeves file accepts. Without a `timeframe` column every bar is taken to be of
 * the sleeves' one timeframe. Rows outside the streams the sleeves follow are ignored.
 */
export function loadBarsFromCsv(
  path: string,
  streams: readonly BarStream[],
  fromMs: number,
  toMs: number,
): Bar[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BacktestArgumentError('--bars', `cannot read ${path}: ${(error as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((name) => name.trim().toLowerCase());
  const column = (name: string) => header.indexOf(name);
  for (const required of ['ts', 'instrument', 'open', 'high', 'low', 'close']) {
    if (column(required) < 0)
      throw new BacktestArgumentError('--bars', `${path}: the header has no "${required}" column`);
  }
  const timeframes = [...new Set(streams.map((stream) => stream.timeframe))];
  if (column('timeframe') < 0 && timeframes.length > 1)
    throw new BacktestArgumentError(
      '--bars',
      `${path}: no "timeframe" column, and the sleeves follow several timeframes (${timeframes.join(', ')})`,
    );
  const wanted = new Map(streams.map((stream) => [`${stream.instrument}|${stream.timeframe}`, stream]));
  const keyOf = new Map<string, InstrumentKey>();
  const byStream = new Map<string, Bar[]>();
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (!line || line.startsWith('#')) continue;
    const cells = line.split(',').map((cell) => cell.trim());
    const cell = (name: string) => (column(name) >= 0 ? (cells[column(name)] ?? '') : '');
    const where = `${path} line ${index + 1}`;
    const spec = cell('instrument');
    let key = keyOf.get(spec);
    if (key === undefined) {
      try {
        // `EURCAD` reads as a stock symbol, whose key is the symbol itself: the same key as EUR.CAD's.
        key = instrumentKey(parseInstrumentSpec(spec));
      } catch {
        throw new BacktestArgumentError('--bars', `${where}: instrument "${spec}" is not one`);
      }
      keyOf.set(spec, key);
    }
    const timeframeText = cell('timeframe') || timeframes[0]!;
    const timeframe = Timeframe.safeParse(timeframeText);
    if (!timeframe.success)
      throw new BacktestArgumentError('--bars', `${where}: timeframe "${timeframeText}" is not one`);
    const stream = wanted.get(`${key}|${timeframe.data}`);
    if (!stream) continue;
    const tsText = cell('ts');
    const ts = /^\d+$/.test(tsText)
      ? Number(tsText) < 100_000_000_000
        ? Number(tsText) * 1000
        : Number(tsText)
      : Date.parse(tsText);
    if (!Number.isFinite(ts))
      throw new BacktestArgumentError('--bars', `${where}: ts "${tsText}" is not a time`);
    if (ts >= toMs) continue;
    const prices: Record<string, string> = {};
    for (const name of ['open', 'high', 'low', 'close']) {
      const value = cell(name);
      if (!DECIMAL.test(value) || Number(value) <= 0)
        throw new BacktestArgumentError('--bars', `${where}: ${name} "${value}" is not a positive number`);
      prices[name] = value;
    }
    const volume = cell('volume') || '0';
    const list = byStream.get(`${key}|${timeframe.data}`) ?? [];
    list.push({
      v: 1,
      instrument: key,
      timeframe: timeframe.data,
      ts: new Date(ts).toISOString(),
      open: prices.open!,
      high: prices.high!,
      low: prices.low!,
      close: prices.close!,
      volume,
      source: 'backfill',
      receivedAt: new Date(ts + TIMEFRAME_SECONDS[timeframe.data] * 1000).toISOString(),
    });
    byStream.set(`${key}|${timeframe.data}`, list);
  }
  const bars: Bar[] = [];
  for (const [streamKey, list] of byStream) {
    const stream = wanted.get(streamKey)!;
    list.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    const history = list.filter((bar) => Date.parse(bar.ts) < fromMs);
    bars.push(...history.slice(Math.max(0, history.length - stream.warmupBars)));
    bars.push(...list.filter((bar) => Date.parse(bar.ts) >= fromMs));
  }
  return bars;
}
