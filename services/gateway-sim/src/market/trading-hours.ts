/**
 * Market schedules in New York time, as IB publishes them for IDEALPRO forex (Sunday 17:00 to Friday 17:00,
 * one session per day from 17:00 to 17:00) and US stocks (04:00–20:00 trading hours, 09:30–16:00 liquid
 * hours, Monday to Friday). Exchange holidays are not modelled. `always-open` removes every closure.
 */
import { DateTime } from 'luxon';

import type { ScheduleKind } from './instruments';

export const NEW_YORK = 'America/New_York';

export type MarketHoursMode = 'forex' | 'always-open';

export interface Interval {
  start: number;
  end: number;
}

interface DaySessions {
  trading: Interval[];
  liquid: Interval[];
}

function at(day: DateTime, hour: number, minute = 0): number {
  return day.set({ hour, minute, second: 0, millisecond: 0 }).toMillis();
}

/** The sessions that start on a New York calendar day. Luxon weekday: 1 = Monday … 7 = Sunday. */
function sessionsStartingOn(kind: ScheduleKind, day: DateTime): DaySessions {
  const weekday = day.weekday;
  if (kind === 'forex') {
    // Sunday..Thursday 17:00 → next day 17:00.
    if (weekday === 7 || weekday <= 4) {
      const session = { start: at(day, 17), end: at(day.plus({ days: 1 }), 17) };
      return { trading: [session], liquid: [session] };
    }
    return { trading: [], liquid: [] };
  }
  if (weekday >= 6) return { trading: [], liquid: [] };
  return {
    trading: [{ start: at(day, 4), end: at(day, 20) }],
    liquid: [{ start: at(day, 9, 30), end: at(day, 16) }],
  };
}

const CACHE_SPAN = 4 * 86_400_000;

export class MarketSchedule {
  /** Open intervals around recently asked times, since the matching loop asks once per simulated second. */
  private readonly cache = new Map<string, { from: number; to: number; intervals: Interval[] }>();

  constructor(readonly mode: MarketHoursMode) {}

  /** Whether the instrument trades at `time`; `regularHoursOnly` restricts stocks to 09:30–16:00. */
  isOpen(kind: ScheduleKind, time: number, regularHoursOnly = false): boolean {
    if (this.mode === 'always-open') return true;
    const cacheKey = `${kind}:${regularHoursOnly}`;
    let entry = this.cache.get(cacheKey);
    if (!entry || time < entry.from || time >= entry.to) {
      const from = time - CACHE_SPAN / 2;
      entry = {
        from,
        to: from + CACHE_SPAN,
        intervals: this.openIntervals(kind, from, from + CACHE_SPAN, regularHoursOnly),
      };
      this.cache.set(cacheKey, entry);
    }
    return entry.intervals.some((interval) => interval.start <= time && time < interval.end);
  }

  /** The open parts of [from, to), merged and in order. */
  openIntervals(kind: ScheduleKind, from: number, to: number, regularHoursOnly = false): Interval[] {
    if (to <= from) return [];
    if (this.mode === 'always-open') return [{ start: from, end: to }];
    const intervals: Interval[] = [];
    let day = DateTime.fromMillis(from, { zone: NEW_YORK }).startOf('day').minus({ days: 1 });
    const lastDay = DateTime.fromMillis(to, { zone: NEW_YORK }).startOf('day');
    while (day <= lastDay) {
      const sessions = sessionsStartingOn(kind, day);
      for (const session of regularHoursOnly ? sessions.liquid : sessions.trading) {
        const start = Math.max(session.start, from);
        const end = Math.min(session.end, to);
        if (start >= end) continue;
        const previous = intervals[intervals.length - 1];
        if (previous && previous.end >= start) previous.end = Math.max(previous.end, end);
        else intervals.push({ start, end });
      }
      day = day.plus({ days: 1 });
    }
    return intervals;
  }

  /** The next time at or after `time` when the market is open (itself if open); undefined beyond 8 days. */
  nextOpen(kind: ScheduleKind, time: number, regularHoursOnly = false): number | undefined {
    const horizon = time + 8 * 86_400_000;
    return this.openIntervals(kind, time, horizon, regularHoursOnly)[0]?.start;
  }

  /**
   * When the trading day containing `time` (or the next one, when closed) ends: forex days end at 17:00 New
   * York even though the next one starts at once. Undefined when always open.
   */
  sessionEnd(kind: ScheduleKind, time: number, regularHoursOnly = false): number | undefined {
    if (this.mode === 'always-open') return undefined;
    let day = DateTime.fromMillis(time, { zone: NEW_YORK }).startOf('day').minus({ days: 1 });
    for (let i = 0; i < 10; i++, day = day.plus({ days: 1 })) {
      const sessions = sessionsStartingOn(kind, day);
      for (const session of regularHoursOnly ? sessions.liquid : sessions.trading) {
        if (session.end > time) return session.end;
      }
    }
    return undefined;
  }

  /**
   * IB's `tradingHours`/`liquidHours` string for about a week from the day before `time`:
   * `20240121:1700-20240122:1700;…;20240126:CLOSED`. Days on which no session starts are CLOSED.
   */
  hoursString(kind: ScheduleKind, time: number, regularHoursOnly: boolean, days = 7): string {
    const first = DateTime.fromMillis(time, { zone: NEW_YORK }).startOf('day').minus({ days: 1 });
    const parts: string[] = [];
    for (let i = 0; i < days; i++) {
      const day = first.plus({ days: i });
      const label = day.toFormat('yyyyMMdd');
      if (this.mode === 'always-open') {
        parts.push(`${label}:0000-${day.plus({ days: 1 }).toFormat('yyyyMMdd')}:0000`);
        continue;
      }
      const sessions = sessionsStartingOn(kind, day);
      const list = regularHoursOnly ? sessions.liquid : sessions.trading;
      if (list.length === 0) {
        parts.push(`${label}:CLOSED`);
        continue;
      }
      for (const session of list) {
        const start = DateTime.fromMillis(session.start, { zone: NEW_YORK });
        const end = DateTime.fromMillis(session.end, { zone: NEW_YORK });
        parts.push(`${start.toFormat('yyyyMMdd:HHmm')}-${end.toFormat('yyyyMMdd:HHmm')}`);
      }
    }
    return parts.join(';');
  }
}
