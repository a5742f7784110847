/**
 * Gap finding: which 1-minute bars of a window are missing. A minute is expected when the market is open
 * during it (per the contract's trading hours), so a closed market is never a gap. A minute is not
 * missing when its bar is stored (or waiting to be stored), or when history was already asked for it and
 * had no bar (a holiday the weekly calendar did not know, a minute without trades).
 */
import { MINUTE_MS } from '@ibstack/contracts';
import { expectedMinutes } from './bars';
import type { Interval, TradingCalendar } from './trading-hours';

export interface GapQuery {
  calendar: TradingCalendar;
  /** Window start, epoch ms (rounded down to the minute). */
  from: number;
  /** Window end, exclusive (rounded down to the minute): the first minute not yet over, or live's. */
  to: number;
  /** Minute starts that have a bar. */
  present: ReadonlySet<number>;
  /** Windows history has already answered, merged or not. */
  covered: readonly Interval[];
}

export interface HistoryEndQuery {
  /** The gateway's time now. */
  now: number;
  /** How long a minute must be over (gateway time) before history is asked for it. */
  settleMs: number;
  /** First minute the current run of 5-second bars covers whole; undefined without a run. */
  firstWholeMinute: number | undefined;
  /** End of the newest 5-second bar of that run. */
  lastPartEnd: number | undefined;
  /** Age (gateway time) beyond which the run no longer counts as live. */
  liveMaxAgeMs: number;
}

/**
 * Where history ends (exclusive). While live 5-second bars arrive, at their seam: the first minute the
 * run covers whole, once it has begun (every minute before it is over). Before the run gets there, at the
 * last settled minute but never inside the run's whole minutes, which live data will deliver. A run whose
 * newest bar is older than `liveMaxAgeMs` is not live any more (a refused or stalled subscription, bars
 * lost): history then ends at the last settled minute, or the minutes after the seam would never be asked.
 */
export function historyEnd(query: HistoryEndQuery): number {
  const settled = Math.floor((query.now - query.settleMs) / MINUTE_MS) * MINUTE_MS;
  const { firstWholeMinute: first, lastPartEnd: end } = query;
  if (first === undefined || end === undefined || query.now - end >= query.liveMaxAgeMs) return settled;
  return end > first ? first : Math.min(settled, first);
}

/** Missing minutes as merged runs [start, end), oldest first. */
export function findMissingRanges(query: GapQuery): Interval[] {
  const from = Math.floor(query.from / MINUTE_MS) * MINUTE_MS;
  const to = Math.floor(query.to / MINUTE_MS) * MINUTE_MS;
  if (to <= from) return [];
  const covered = mergeIntervals(query.covered);
  const ranges: Interval[] = [];
  let coveredIndex = 0;
  for (const minute of expectedMinutes(query.calendar, from, to)) {
    if (query.present.has(minute)) continue;
    while (coveredIndex < covered.length && covered[coveredIndex]!.end <= minute) coveredIndex++;
    const cover = covered[coveredIndex];
    if (cover && cover.start <= minute && minute + MINUTE_MS <= cover.end) continue;
    const last = ranges[ranges.length - 1];
    if (last && last.end === minute) last.end = minute + MINUTE_MS;
    else ranges.push({ start: minute, end: minute + MINUTE_MS });
  }
  return ranges;
}

/** Sorts and merges overlapping or touching intervals. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    if (interval.end <= interval.start) continue;
    const last = merged[merged.length - 1];
    if (last && last.end >= interval.start) last.end = Math.max(last.end, interval.end);
    else merged.push({ ...interval });
  }
  return merged;
}

/** Total length of intervals, in minutes. */
export function minutesIn(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, interval) => sum + (interval.end - interval.start) / MINUTE_MS, 0);
}
