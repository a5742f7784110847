/**
 * reqHistoricalData semantics: IB's duration strings (`N S|D|W|M|Y`), bar sizes (`1 secs` … `1 month`),
 * end times (empty = now, `yyyyMMdd-HH:mm:ss` in UTC, `yyyyMMdd HH:mm:ss <zone>`), the step-size limits IB
 * refuses with error 162, and bars over the open parts of the window only.
 */
import { DateTime } from 'luxon';

import { computeBar, sampleStep, type Bar, type WhatToShow } from './bars';
import type { SimInstrument } from './instruments';
import type { QuoteBook } from './quotes';
import { NEW_YORK, type Interval, type MarketSchedule } from './trading-hours';

export type BarSize =
  | { kind: 'seconds'; seconds: number; label: string }
  | { kind: 'day' | 'week' | 'month'; seconds: number; label: string };

const BAR_SIZES: Record<string, number> = {
  '1 secs': 1,
  '5 secs': 5,
  '10 secs': 10,
  '15 secs': 15,
  '30 secs': 30,
  '1 min': 60,
  '2 mins': 120,
  '3 mins': 180,
  '5 mins': 300,
  '10 mins': 600,
  '15 mins': 900,
  '20 mins': 1200,
  '30 mins': 1800,
  '1 hour': 3600,
  '2 hours': 7200,
  '3 hours': 10_800,
  '4 hours': 14_400,
  '8 hours': 28_800,
};

export const LEGAL_BAR_SIZES =
  '1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, 15 mins, 20 mins, 30 mins, 1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M';

export function parseBarSize(text: string): BarSize | undefined {
  const normalised = text.trim().replace(/\s+/g, ' ').toLowerCase();
  const seconds = BAR_SIZES[normalised] ?? (normalised === '1 sec' ? 1 : undefined);
  if (seconds !== undefined) return { kind: 'seconds', seconds, label: normalised };
  if (normalised === '1 day') return { kind: 'day', seconds: 86_400, label: '1 day' };
  if (normalised === '1w' || normalised === '1 week')
    return { kind: 'week', seconds: 604_800, label: '1 week' };
  if (normalised === '1m' || normalised === '1 month')
    return { kind: 'month', seconds: 2_592_000, label: '1 month' };
  return undefined;
}

export interface Duration {
  amount: number;
  unit: 'S' | 'D' | 'W' | 'M' | 'Y';
}

export function parseDuration(text: string): Duration | undefined {
  const match = /^(\d+)\s*([SDWMY])$/i.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  if (!(amount > 0)) return undefined;
  return { amount, unit: match[2]!.toUpperCase() as Duration['unit'] };
}

/** The window start for a duration ending at `end` (calendar arithmetic in New York for D/W/M/Y). */
export function windowStart(duration: Duration, end: number): number {
  const endInNewYork = DateTime.fromMillis(end, { zone: NEW_YORK });
  switch (duration.unit) {
    case 'S':
      return end - duration.amount * 1000;
    case 'D':
      return endInNewYork.minus({ days: duration.amount }).toMillis();
    case 'W':
      return endInNewYork.minus({ weeks: duration.amount }).toMillis();
    case 'M':
      return endInNewYork.minus({ months: duration.amount }).toMillis();
    case 'Y':
      return endInNewYork.minus({ years: duration.amount }).toMillis();
  }
}

/** Nominal seconds of a duration, for the step-size limits. */
export function durationSeconds(duration: Duration): number {
  const unitSeconds = { S: 1, D: 86_400, W: 604_800, M: 2_592_000, Y: 31_536_000 }[duration.unit];
  return duration.amount * unitSeconds;
}

/**
 * IB's step-size table: the longest duration each bar size may be asked for (seconds). 1-second bars up to
 * 1800 S, 5 secs up to 3600 S, 10–15 secs up to 4 hours, 30 secs up to 8 hours, 1 min up to 1 D, 2 mins up to
 * 2 D, 3–20 mins up to 1 W, 30 mins–8 hours up to 1 M; daily and longer bars up to 30 years.
 */
export function maxDurationSeconds(bar: BarSize): number {
  // Daily and longer bars: as far back as IB keeps them for the simulator's purposes, 30 years.
  if (bar.kind !== 'seconds') return 30 * 31_536_000;
  const s = bar.seconds;
  if (s < 5) return 1800;
  if (s < 10) return 3600;
  if (s < 30) return 14_400;
  if (s < 60) return 28_800;
  if (s < 120) return 86_400;
  if (s < 180) return 172_800;
  if (s < 1800) return 604_800;
  return 2_678_400;
}

export type EndTime = { ok: true; time: number; impliedZone: boolean } | { ok: false; reason: string };

/** IB end times: "" (now), `yyyyMMdd-HH:mm:ss` (UTC), `yyyyMMdd HH:mm:ss [zone]`, `yyyyMMdd`. */
export function parseEndDateTime(text: string, now: number, defaultZone = NEW_YORK): EndTime {
  const value = text.trim();
  if (!value) return { ok: true, time: now, impliedZone: false };
  const utc = /^(\d{8})-(\d{2}:\d{2}(?::\d{2})?)$/.exec(value);
  if (utc) {
    const parsed = DateTime.fromFormat(
      `${utc[1]} ${utc[2]!.length === 5 ? `${utc[2]}:00` : utc[2]}`,
      'yyyyMMdd HH:mm:ss',
      {
        zone: 'UTC',
      },
    );
    return parsed.isValid
      ? { ok: true, time: parsed.toMillis(), impliedZone: false }
      : { ok: false, reason: value };
  }
  const local = /^(\d{8})(?:\s+(\d{2}:\d{2}:\d{2}))?(?:\s+(\S+))?$/.exec(value);
  if (!local) return { ok: false, reason: value };
  const zone = local[3] ?? defaultZone;
  const parsed = DateTime.fromFormat(`${local[1]} ${local[2] ?? '23:59:59'}`, 'yyyyMMdd HH:mm:ss', { zone });
  if (!parsed.isValid) return { ok: false, reason: value };
  return { ok: true, time: parsed.toMillis(), impliedZone: local[3] === undefined };
}

export interface HistoricalBar extends Bar {
  /** The date field as IB sends it for this formatDate. */
  label: string;
}

/** Bar start for the bar containing `time`. Forex days run from 17:00 to 17:00 New York. */
export function barStartOf(bar: BarSize, instrument: SimInstrument, time: number): number {
  const shiftHours = instrument.schedule === 'forex' ? 7 : 0;
  const shifted = DateTime.fromMillis(time, { zone: NEW_YORK }).plus({ hours: shiftHours });
  if (bar.kind === 'seconds') {
    const dayStart = DateTime.fromMillis(time, { zone: NEW_YORK }).startOf('day').toMillis();
    const size = bar.seconds * 1000;
    return time - ((((time - dayStart) % size) + size) % size);
  }
  const unit = bar.kind === 'day' ? 'day' : bar.kind === 'week' ? 'week' : 'month';
  return shifted.startOf(unit).minus({ hours: shiftHours }).toMillis();
}

function nextBarStart(bar: BarSize, instrument: SimInstrument, start: number): number {
  if (bar.kind === 'seconds') return start + bar.seconds * 1000;
  const shiftHours = instrument.schedule === 'forex' ? 7 : 0;
  const unit = bar.kind === 'day' ? { days: 1 } : bar.kind === 'week' ? { weeks: 1 } : { months: 1 };
  return DateTime.fromMillis(start, { zone: NEW_YORK })
    .plus({ hours: shiftHours })
    .plus(unit)
    .minus({ hours: shiftHours })
    .toMillis();
}

/** IB's date field: intraday `yyyyMMdd HH:mm:ss US/Eastern` or epoch seconds; daily and longer `yyyyMMdd`. */
export function barLabel(bar: BarSize, instrument: SimInstrument, start: number, formatDate: number): string {
  if (bar.kind !== 'seconds') {
    const shiftHours = instrument.schedule === 'forex' ? 7 : 0;
    return DateTime.fromMillis(start, { zone: NEW_YORK }).plus({ hours: shiftHours }).toFormat('yyyyMMdd');
  }
  if (formatDate === 2) return String(Math.floor(start / 1000));
  return `${DateTime.fromMillis(start, { zone: NEW_YORK }).toFormat('yyyyMMdd HH:mm:ss')} ${instrument.timeZoneId}`;
}

const SCHEDULE_PIECE_MS = 30 * 86_400_000;

export interface HistoricalBarsOptions {
  book: QuoteBook;
  schedule: MarketSchedule;
  instrument: SimInstrument;
  whatToShow: WhatToShow;
  bar: BarSize;
  start: number;
  end: number;
  regularHoursOnly: boolean;
  formatDate: number;
  /** Safety cap on the number of bars computed. */
  maxBars?: number;
}

/**
 * The bars of a historical request: bars starting in [start, end), each over its open parts only. A
 * generator that pauses after every bar, so a long request can be spread over event-loop turns
 * (`historicalBarsInSlices`); `historicalBars` runs it to the end at once.
 */
export function* generateHistoricalBars(options: HistoricalBarsOptions): Generator<void, HistoricalBar[]> {
  const { book, schedule, instrument, whatToShow, bar, start, end } = options;
  // The open intervals of a long window (30 years) take a while to list: a month at a time, with a pause
  // after each, merged where a session crosses from one month into the next (as one call would).
  const open: Interval[] = [];
  for (let from = start; from < end; from += SCHEDULE_PIECE_MS) {
    const to = Math.min(from + SCHEDULE_PIECE_MS, end);
    for (const interval of schedule.openIntervals(instrument.schedule, from, to, options.regularHoursOnly)) {
      const previous = open[open.length - 1];
      if (previous && previous.end >= interval.start) previous.end = Math.max(previous.end, interval.end);
      else open.push({ ...interval });
    }
    yield;
  }
  const bars: HistoricalBar[] = [];
  if (open.length === 0) return bars;
  const step = sampleStep(bar.seconds);
  const maxBars = options.maxBars ?? 200_000;
  let barStart = barStartOf(bar, instrument, start);
  if (barStart < start) barStart = nextBarStart(bar, instrument, barStart);
  // Skip the closed stretch before the first open interval without walking it bar by bar.
  if (bar.kind === 'seconds' && barStart < open[0]!.start) {
    barStart = barStartOf(bar, instrument, open[0]!.start);
    if (barStart < start) barStart = nextBarStart(bar, instrument, barStart);
  }
  let openIndex = 0;
  while (barStart < end && bars.length < maxBars) {
    const barEnd = Math.min(nextBarStart(bar, instrument, barStart), end);
    while (openIndex < open.length && open[openIndex]!.end <= barStart) openIndex++;
    if (openIndex >= open.length) break;
    const parts: Interval[] = [];
    for (let i = openIndex; i < open.length && open[i]!.start < barEnd; i++) {
      const partStart = Math.max(open[i]!.start, barStart);
      const partEnd = Math.min(open[i]!.end, barEnd);
      if (partStart < partEnd) parts.push({ start: partStart, end: partEnd });
    }
    if (parts.length > 0) {
      const computed = computeBar(book, instrument, whatToShow, barStart, parts, step, false);
      if (computed)
        bars.push({ ...computed, label: barLabel(bar, instrument, barStart, options.formatDate) });
      yield;
    } else if (bar.kind === 'seconds' && open[openIndex]!.start > barEnd) {
      // Jump over a closed stretch (a weekend) in one step.
      // Bars are aligned, so the bar holding the next open instant starts at or after this bar's end.
      barStart = Math.max(barStartOf(bar, instrument, open[openIndex]!.start), barEnd);
      continue;
    }
    barStart = nextBarStart(bar, instrument, barStart);
  }
  return bars;
}

/** The bars of a historical request, computed at once (see `generateHistoricalBars`). */
export function historicalBars(options: HistoricalBarsOptions): HistoricalBar[] {
  const steps = generateHistoricalBars(options);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

export interface SliceOptions {
  /**
   * Longest stretch of computing before other work (other sessions, ticks, matching) gets a turn.
   * @default 8
   */
  sliceMs?: number;
  /** Checked between slices: true stops the computation, which then resolves to undefined. */
  cancelled?: () => boolean;
}

/**
 * The bars of a historical request computed in slices of at most `sliceMs` with `setImmediate` in between,
 * so a long request (30 years of daily bars) never holds up the other sessions, ticks or matching.
 */
export async function historicalBarsInSlices(
  options: HistoricalBarsOptions,
  slices: SliceOptions = {},
): Promise<HistoricalBar[] | undefined> {
  const sliceMs = slices.sliceMs ?? 8;
  const steps = generateHistoricalBars(options);
  for (;;) {
    const sliceEnd = performance.now() + sliceMs;
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
      if (performance.now() >= sliceEnd) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (slices.cancelled?.()) return undefined;
  }
}

/** `yyyyMMdd-HH:mm:ss` in UTC, the form IB uses for the start and end of a historical answer. */
export function utcStamp(time: number): string {
  return DateTime.fromMillis(time, { zone: 'UTC' }).toFormat('yyyyMMdd-HH:mm:ss');
}
