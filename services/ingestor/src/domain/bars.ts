/**
 * Bar arithmetic shared by the live path and the backfill. Prices stay decimal strings; OHLC of an
 * aggregate is first open, highest high, lowest low, last close, and volumes add up.
 *
 * Invariant: a live bar is only ever built from a complete set of 5-second bars. A minute with a missing
 * 5-second bar (the first minute after subscribing, a dropped connection) is not published from live data
 * at all; the gap repair fetches it from history once it is over. So live and historical bars of the same
 * minute agree, and a bar is never revised because it was first built from part of its data.
 */
import Decimal from 'decimal.js';
import { DateTime } from 'luxon';
import { MINUTE_MS, type Timeframe, TIMEFRAME_SECONDS } from '@ibstack/contracts';

import type { TradingCalendar } from './trading-hours';

/** OHLCV with decimal-string prices; `ts` is the bar's open time in epoch ms. */
export interface Ohlcv {
  ts: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

export const REAL_TIME_BAR_MS = 5_000;
const PARTS_PER_MINUTE = MINUTE_MS / REAL_TIME_BAR_MS;

/** Aggregates bars in time order into one bar starting at `ts`. */
export function combineBars(ts: number, bars: readonly Ohlcv[]): Ohlcv {
  if (bars.length === 0) throw new RangeError('cannot combine zero bars');
  // The extremes keep their original text, so an aggregate prints prices exactly as its parts did.
  let high = bars[0]!;
  let low = bars[0]!;
  let volume = new Decimal(0);
  for (const bar of bars) {
    if (new Decimal(bar.high).gt(high.high)) high = bar;
    if (new Decimal(bar.low).lt(low.low)) low = bar;
    volume = volume.plus(bar.volume);
  }
  return {
    ts,
    open: bars[0]!.open,
    high: high.high,
    low: low.low,
    close: bars[bars.length - 1]!.close,
    volume: volume.toFixed(),
  };
}

export type AssemblerEvent =
  /** A whole minute built from all twelve of its 5-second bars. */
  | { type: 'minute'; bar: Ohlcv }
  /**
   * The 5-second series jumped (first bar of a session, a hole, or a reconnect). `from` is where the
   * unbroken run now starts; minutes before `firstWholeMinute` are history's to fill.
   */
  | { type: 'run-start'; from: number; firstWholeMinute: number; previousEnd: number | undefined };

/**
 * Assembles IB's 5-second real-time bars into whole 1-minute bars. Feed it validated bars in arrival
 * order; a bar that does not advance time must be rejected before (see `validation.ts`).
 */
export class MinuteAssembler {
  private minuteStart: number | undefined;
  private parts: Ohlcv[] = [];
  private lastPartTs: number | undefined;
  private runStart: number | undefined;

  /** Start of the current unbroken run of 5-second bars, if any. */
  get currentRunStart(): number | undefined {
    return this.runStart;
  }

  /** End (exclusive) of the newest 5-second bar seen. */
  get lastPartEnd(): number | undefined {
    return this.lastPartTs === undefined ? undefined : this.lastPartTs + REAL_TIME_BAR_MS;
  }

  /** First minute of the current run that live data covers whole. */
  get firstWholeMinute(): number | undefined {
    return this.runStart === undefined ? undefined : ceilTo(this.runStart, MINUTE_MS);
  }

  /** Forgets the run (a new subscription starts a new one). */
  reset(): void {
    this.minuteStart = undefined;
    this.parts = [];
    this.lastPartTs = undefined;
    this.runStart = undefined;
  }

  push(part: Ohlcv): AssemblerEvent[] {
    const events: AssemblerEvent[] = [];
    if (this.lastPartTs === undefined || part.ts !== this.lastPartTs + REAL_TIME_BAR_MS) {
      const previousEnd = this.lastPartEnd;
      this.runStart = part.ts;
      this.minuteStart = undefined;
      this.parts = [];
      events.push({
        type: 'run-start',
        from: part.ts,
        firstWholeMinute: ceilTo(part.ts, MINUTE_MS),
        previousEnd,
      });
    }
    this.lastPartTs = part.ts;
    const minute = floorTo(part.ts, MINUTE_MS);
    if (this.minuteStart !== minute) {
      this.minuteStart = minute;
      this.parts = [];
    }
    this.parts.push(part);
    if (part.ts === minute + MINUTE_MS - REAL_TIME_BAR_MS) {
      if (this.parts.length === PARTS_PER_MINUTE && this.parts[0]!.ts === minute)
        events.push({ type: 'minute', bar: combineBars(minute, this.parts) });
      this.parts = [];
    }
    return events;
  }
}

export function floorTo(time: number, step: number): number {
  return Math.floor(time / step) * step;
}

export function ceilTo(time: number, step: number): number {
  return Math.ceil(time / step) * step;
}

/**
 * The start of the `timeframe` bar that holds `time`. Intraday bars are aligned to midnight in the
 * instrument's time zone (as IB aligns them; this matters for zones with a half-hour offset and for 4h
 * bars); a daily bar is one trading session, starting when the session starts.
 */
export function bucketStart(timeframe: Timeframe, time: number, calendar: TradingCalendar): number {
  if (timeframe === '1d') {
    const session = calendar.sessionContaining(time);
    if (session) return session.start;
  }
  const size = TIMEFRAME_SECONDS[timeframe] * 1000;
  const midnight = DateTime.fromMillis(time, { zone: calendar.zone }).startOf('day').toMillis();
  if (timeframe === '1d') return midnight;
  return midnight + floorTo(time - midnight, size);
}

/** The end (exclusive) of the bucket that starts at `start`. */
export function bucketEnd(timeframe: Timeframe, start: number, calendar: TradingCalendar): number {
  if (timeframe === '1d') {
    const session = calendar.sessionContaining(start);
    if (session && session.start === start) return session.end;
    return DateTime.fromMillis(start, { zone: calendar.zone }).plus({ days: 1 }).toMillis();
  }
  const size = TIMEFRAME_SECONDS[timeframe] * 1000;
  const next = start + size;
  // A bucket never crosses local midnight (a 23- or 25-hour day ends its last bucket early or late).
  const nextMidnight = DateTime.fromMillis(start, { zone: calendar.zone })
    .startOf('day')
    .plus({ days: 1 })
    .toMillis();
  return Math.min(next, nextMidnight);
}

/**
 * Builds the `timeframe` bar for the bucket at `start` from its 1-minute bars, if the bucket is complete:
 * every minute the market was open in it is either present or known to have no data (covered by a
 * history answer without a bar). Returns undefined while a minute is still missing.
 */
export function buildHigherBar(options: {
  timeframe: Timeframe;
  start: number;
  minutes: readonly Ohlcv[];
  calendar: TradingCalendar;
  /** Whether a minute without a bar is known to be empty (history was asked and had none). */
  isKnownEmpty: (minute: number) => boolean;
}): Ohlcv | undefined {
  const { timeframe, start, calendar } = options;
  const end = bucketEnd(timeframe, start, calendar);
  const present = new Set(options.minutes.map((bar) => bar.ts));
  for (const minute of expectedMinutes(calendar, start, end)) {
    if (!present.has(minute) && !options.isKnownEmpty(minute)) return undefined;
  }
  const inside = options.minutes.filter((bar) => bar.ts >= start && bar.ts < end).sort((a, b) => a.ts - b.ts);
  if (inside.length === 0) return undefined;
  return combineBars(start, inside);
}

/** Minute starts in [from, to) during which the market is open for at least part of the minute. */
export function expectedMinutes(calendar: TradingCalendar, from: number, to: number): number[] {
  const minutes: number[] = [];
  let lastAdded = Number.NEGATIVE_INFINITY;
  for (const interval of calendar.openIntervals(from, to)) {
    for (let minute = floorTo(interval.start, MINUTE_MS); minute < interval.end; minute += MINUTE_MS) {
      if (minute < from || minute <= lastAdded) continue;
      minutes.push(minute);
      lastAdded = minute;
    }
  }
  return minutes;
}
