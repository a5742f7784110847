/**
 * Market hours from IB contract details. IB publishes `tradingHours` / `liquidHours` as a list of days,
 * each with the sessions that start on it, in the contract's `timeZoneId`:
 *
 *   20261122:1715-20261123:1700;20261123:1715-20261124:1700;20261128:CLOSED   (current format)
 *   20090507:0700-1830,1830-2330;20090508:CLOSED                              (older format)
 *
 * The list covers about a week around the request. A backfill looks further back than that, so a day the
 * list does not name gets its weekday's regular sessions: the longest listed day of that weekday, unless
 * that one is shorter (by more than an hour) than the longest listed day of the week, or closed; then the
 * longest listed day of the week, moved to that date. A holiday or an early close in the list is therefore
 * never copied into other weeks, where it would be a permanent hole. Only a weekday listed CLOSED at least
 * twice (and never open) counts as a weekly closure. The price is that a weekend listed once is assumed open
 * in earlier weeks: history answers it as empty once (`bar_coverage`), and asking for data that is not there
 * is cheap, skipping data that is there is a permanent hole. A contract that lists no open day at all counts
 * as open all day.
 */
import { DAY_MS } from '@ibstack/contracts';
import { DateTime, IANAZone } from 'luxon';

import { TradingHoursError } from '../errors';

export interface Interval {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

/**
 * IB time-zone ids that are abbreviations of zones with daylight saving. Luxon would read `EST` as a fixed
 * UTC-5, which is wrong half the year for the exchanges IB means by it.
 */
const ZONE_ALIASES: Readonly<Record<string, string>> = {
  EST: 'America/New_York',
  EDT: 'America/New_York',
  CST: 'America/Chicago',
  CDT: 'America/Chicago',
  MST: 'America/Denver',
  PST: 'America/Los_Angeles',
  CET: 'Europe/Berlin',
  MET: 'Europe/Berlin',
  GMT: 'Europe/London',
  BST: 'Europe/London',
};

/** The IANA zone for an IB `timeZoneId` (`US/Eastern`, `EST (Eastern Standard Time)`, `MET`, `JST`). */
export function resolveTimeZone(timeZoneId: string): string {
  const bare = timeZoneId.trim().replace(/\s*\(.*\)$/, '');
  const alias = ZONE_ALIASES[bare.toUpperCase()];
  if (alias) return alias;
  if (IANAZone.isValidZone(bare)) return bare;
  throw new TradingHoursError(timeZoneId, `unknown time zone "${timeZoneId}"`);
}

/** Sessions never last longer than this; bounds how far back a lookup starts. */
const MAX_SESSION_DAYS = 3;
/** A listed day this much shorter than the week's longest is an early close (DST alone moves an hour). */
const SHORTENED_MS = 3_600_000;

/**
 * Open and closed times of one contract. Built from `parseTradingHours`; a calendar with no listed days
 * (`alwaysOpen`) is open at every instant.
 */
export class TradingCalendar {
  private readonly byDay: ReadonlyMap<string, readonly Interval[]>;
  /** The listed day whose sessions an unlisted day of each ISO weekday (1 = Monday) gets. */
  private readonly regularByWeekday: ReadonlyMap<number, DateTime | 'closed'>;

  constructor(
    readonly zone: string,
    days: ReadonlyMap<string, readonly Interval[]>,
  ) {
    this.byDay = days;
    const byWeekday = new Map<number, DateTime[]>();
    for (const day of [...days.keys()].sort()) {
      const date = DateTime.fromISO(day, { zone });
      const list = byWeekday.get(date.weekday) ?? [];
      list.push(date);
      byWeekday.set(date.weekday, list);
    }
    const longest = (dates: readonly DateTime[]) =>
      dates.reduce<DateTime | undefined>(
        (best, date) => (best && this.openMs(best) >= this.openMs(date) ? best : date),
        undefined,
      );
    const open = [...byWeekday.values()].flat().filter((date) => this.openMs(date) > 0);
    const week = longest(open);
    const regular = new Map<number, DateTime | 'closed'>();
    for (const [weekday, dates] of byWeekday) {
      const own = longest(dates.filter((date) => this.openMs(date) > 0));
      if (!own && dates.length >= 2) regular.set(weekday, 'closed');
      else if (own && week && this.openMs(own) >= this.openMs(week) - SHORTENED_MS) regular.set(weekday, own);
      else if (week) regular.set(weekday, week);
    }
    for (let weekday = 1; weekday <= 7; weekday++)
      if (!regular.has(weekday) && week) regular.set(weekday, week);
    this.regularByWeekday = regular;
  }

  /** A calendar with no closures (the default when a contract publishes no hours). */
  static alwaysOpen(zone = 'UTC'): TradingCalendar {
    return new TradingCalendar(zone, new Map());
  }

  get isAlwaysOpen(): boolean {
    return this.byDay.size === 0;
  }

  /** Whether the market is open at `time` (epoch ms). */
  isOpen(time: number): boolean {
    return this.openIntervals(time, time + 1).length > 0;
  }

  /** The open parts of [from, to), merged and in order. */
  openIntervals(from: number, to: number): Interval[] {
    if (to <= from) return [];
    if (this.isAlwaysOpen) return [{ start: from, end: to }];
    const merged: Interval[] = [];
    for (const session of this.sessionsOverlapping(from, to)) {
      const start = Math.max(session.start, from);
      const end = Math.min(session.end, to);
      if (start >= end) continue;
      const previous = merged[merged.length - 1];
      if (previous && previous.end >= start) previous.end = Math.max(previous.end, end);
      else merged.push({ start, end });
    }
    return merged;
  }

  /** The session (unmerged) that contains `time`, if the market is open then. */
  sessionContaining(time: number): Interval | undefined {
    if (this.isAlwaysOpen) {
      const day = DateTime.fromMillis(time, { zone: this.zone }).startOf('day');
      return { start: day.toMillis(), end: day.plus({ days: 1 }).toMillis() };
    }
    return this.sessionsOverlapping(time, time + 1).find(
      (session) => session.start <= time && time < session.end,
    );
  }

  /** Sessions (listed or borrowed from the same weekday) that overlap [from, to), by start time. */
  private sessionsOverlapping(from: number, to: number): Interval[] {
    const sessions: Interval[] = [];
    let day = DateTime.fromMillis(from - MAX_SESSION_DAYS * DAY_MS, { zone: this.zone }).startOf('day');
    const lastDay = DateTime.fromMillis(to, { zone: this.zone }).startOf('day');
    while (day <= lastDay) {
      for (const session of this.sessionsStartingOn(day)) {
        if (session.end > from && session.start < to) sessions.push(session);
      }
      day = day.plus({ days: 1 });
    }
    return sessions.sort((a, b) => a.start - b.start);
  }

  private sessionsStartingOn(day: DateTime): readonly Interval[] {
    const listed = this.byDay.get(day.toISODate()!);
    if (listed) return listed;
    const regular = this.regularByWeekday.get(day.weekday);
    if (regular === 'closed') return [];
    if (!regular) {
      // No open day listed at all: assume open all day rather than risk a hole.
      return [{ start: day.toMillis(), end: day.plus({ days: 1 }).toMillis() }];
    }
    // Moved by whole days in local time (keeps 17:00 at 17:00 across daylight-saving changes).
    const days = Math.round(day.diff(regular, 'days').days);
    return (this.byDay.get(regular.toISODate()!) ?? []).map((session) => ({
      start: DateTime.fromMillis(session.start, { zone: this.zone }).plus({ days }).toMillis(),
      end: DateTime.fromMillis(session.end, { zone: this.zone }).plus({ days }).toMillis(),
    }));
  }

  /** Open time of the sessions starting on a listed day. */
  private openMs(day: DateTime): number {
    return (this.byDay.get(day.toISODate()!) ?? []).reduce((sum, s) => sum + s.end - s.start, 0);
  }
}

const DATE_TIME = /^(?:(\d{8}):)?(\d{4})$/;

function localTime(zone: string, date: string, hhmm: string, text: string): number {
  const hour = Number(hhmm.slice(0, 2));
  const minute = Number(hhmm.slice(2, 4));
  if (hour > 24 || minute > 59 || (hour === 24 && minute !== 0))
    throw new TradingHoursError(text, `bad time "${hhmm}"`);
  const day = DateTime.fromFormat(date, 'yyyyMMdd', { zone });
  if (!day.isValid) throw new TradingHoursError(text, `bad date "${date}"`);
  // "2400" is the end of the day.
  return day.plus({ hours: hour, minutes: minute }).toMillis();
}

/**
 * Parses IB's `tradingHours` (or `liquidHours`) in the contract's `timeZoneId`. An empty text gives an
 * always-open calendar.
 */
export function parseTradingHours(text: string, timeZoneId: string): TradingCalendar {
  const zone = resolveTimeZone(timeZoneId || 'UTC');
  const days = new Map<string, Interval[]>();
  const trimmed = text.trim();
  if (!trimmed) return new TradingCalendar(zone, days);
  for (const entry of trimmed.split(';')) {
    const part = entry.trim();
    if (!part) continue;
    const match = /^(\d{8}):(.*)$/.exec(part);
    if (!match) throw new TradingHoursError(text, `entry "${part}" does not start with a yyyyMMdd date`);
    const [, date, rest] = match as unknown as [string, string, string];
    const dayKey = DateTime.fromFormat(date, 'yyyyMMdd', { zone }).toISODate();
    if (!dayKey) throw new TradingHoursError(text, `bad date "${date}"`);
    const sessions = days.get(dayKey) ?? [];
    days.set(dayKey, sessions);
    if (rest.trim().toUpperCase() === 'CLOSED') continue;
    for (const range of rest.split(',')) {
      const [from, to, ...extra] = range.trim().split('-');
      const start = DATE_TIME.exec(from ?? '');
      const end = DATE_TIME.exec(to ?? '');
      if (!start || !end || extra.length > 0)
        throw new TradingHoursError(text, `range "${range}" is not HHmm-HHmm or HHmm-yyyyMMdd:HHmm`);
      const startDate = start[1] ?? date;
      const startMs = localTime(zone, startDate, start[2]!, text);
      const endMs = localTime(zone, end[1] ?? startDate, end[2]!, text);
      if (endMs <= startMs) throw new TradingHoursError(text, `range "${range}" ends before it starts`);
      sessions.push({ start: startMs, end: endMs });
    }
    sessions.sort((a, b) => a.start - b.start);
  }
  return new TradingCalendar(zone, days);
}
