/**
 * Trading sessions in a venue's time zone. A forex session runs from 17:00 America/New_York to 17:00 the
 * next day (the daily roll), whatever the UTC offset of the season; a stock "session" is the calendar day.
 * Pure: Intl does the time-zone arithmetic, no clock is read.
 */

/** Durations in milliseconds: the one copy every package and service uses. */
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let existing = formatters.get(timeZone);
  if (!existing) {
    existing = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, existing);
  }
  return existing;
}

/** The wall-clock time in `timeZone` of an instant, expressed as if that wall clock were UTC. */
export function wallClockMs(instantMs: number, timeZone: string): number {
  const parts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type in parts) parts[part.type as keyof typeof parts] = Number(part.value);
  }
  // The formatter stops at seconds; the milliseconds are the instant's own (zone offsets are whole
  // minutes), and without them the offset `wall - instant` is off by up to a second.
  const milliseconds = ((instantMs % 1000) + 1000) % 1000;
  return (
    Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) + milliseconds
  );
}

/** Checks a time-zone name once, so a configuration typo fails at start rather than on the first bar. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface Session {
  /** The trading day the session belongs to (`2026-11-25` for the forex session opening 2026-11-24 17:00 NY). */
  day: string;
  /** The instant the session opened, epoch ms. */
  startMs: number;
}

/** The session an instant falls in, for sessions that open at `startHour`:00 local time in `timeZone`. */
export function sessionOf(instantMs: number, timeZone: string, startHour: number): Session {
  const wall = wallClockMs(instantMs, timeZone);
  // Shifting the wall clock forward by (24 − startHour) mod 24 hours maps each session onto one calendar
  // day: the forex session opening 17:00 on the 24th lands on the 25th, its trading day.
  const shiftMs = ((24 - startHour) % 24) * HOUR_MS;
  const dayStartShifted = Math.floor((wall + shiftMs) / DAY_MS) * DAY_MS;
  const day = new Date(dayStartShifted).toISOString().slice(0, 10);
  const startWall = dayStartShifted - shiftMs;
  // Local start → instant: subtract the zone's offset, checked at the start itself (DST may differ).
  let startMs = startWall - (wall - instantMs);
  startMs = startWall - (wallClockMs(startMs, timeZone) - startMs);
  return { day, startMs };
}

/**
 * The instant a wall-clock time in `timeZone` names (`wall` written as if that wall clock were UTC, as
 * `wallClockMs` returns it). Checked at the result, so the offset of the right side of a DST change is used.
 */
export function instantOfWallClock(wall: number, timeZone: string): number {
  let instant = wall - (wallClockMs(wall, timeZone) - wall);
  instant = wall - (wallClockMs(instant, timeZone) - instant);
  return instant;
}

/**
 * `Date.parse` for the stack's own timestamps (`toISOString()`'s `YYYY-MM-DDTHH:mm:ss.sssZ`), read field by
 * field: a replay parses a time per bar several times over, and `Date.parse` costs about half a
 * microsecond. Any other form, and any field out of its range, goes to `Date.parse`: the same result for
 * every string.
 */
export function parseIsoMs(text: string): number {
  if (
    text.length !== 24 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 46 || // .
    text.charCodeAt(23) !== 90 // Z
  )
    return Date.parse(text);
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const millisecond = digits(text, 20, 3);
  if (
    year < 1970 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    millisecond < 0
  )
    return Date.parse(text);
  return (
    daysSinceEpoch(year, month, day) * DAY_MS +
    hour * HOUR_MS +
    minute * MINUTE_MS +
    second * SECOND_MS +
    millisecond
  );
}

/** The first instant of year 10000: from there on `toISOString` writes a six-digit, signed year. */
const YEAR_10000_MS = 253_402_300_800_000;

/**
 * `new Date(ms).toISOString()` written field by field, the inverse of `parseIsoMs`: a backtest stamps every
 * intent, fill, order event and account snapshot, and `toISOString` costs about a microsecond. Times
 * before 1970, from year 10000 on, or not a whole number of milliseconds go to `toISOString`: the same
 * string for every number (and the same RangeError for one that is not a time).
 */
export function formatIsoMs(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms >= YEAR_10000_MS) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const hour = Math.floor(rest / HOUR_MS);
  rest -= hour * HOUR_MS;
  const minute = Math.floor(rest / MINUTE_MS);
  rest -= minute * MINUTE_MS;
  const second = Math.floor(rest / SECOND_MS);
  const millisecond = rest - second * SECOND_MS;
  // Howard Hinnant's civil_from_days (the inverse of daysSinceEpoch): years start in March.
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return (
    `${year}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.` +
    `${millisecond < 10 ? '00' : millisecond < 100 ? '0' : ''}${millisecond}Z`
  );
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (from year 1970 on). */
function daysSinceEpoch(year: number, month: number, day: number): number {
  // Howard Hinnant's days_from_civil: years start in March, so the leap day ends one.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The number `count` decimal digits spell from `start`, or -1 if one is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index++) {
    const code = text.charCodeAt(index) - 48;
    if (code < 0 || code > 9) return -1;
    value = value * 10 + code;
  }
  return value;
}
