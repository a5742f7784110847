/**
 * Building blocks of the bot's messages: Telegram HTML escaping, numbers from decimal strings (never
 * floats), times in the operator's time zone, and length guards. Telegram rejects a message over 4096
 * characters, so a message stays under it: free text from elsewhere (a reason, an IB message) is clipped
 * with `clip`, and lists go through `fitMessage`.
 */
import { wallClockMs } from '@ibstack/contracts';
import Decimal from 'decimal.js';

/** Telegram's limit is 4096 characters; the margin leaves room for the cut marker. */
export const MAX_MESSAGE_LENGTH = 4000;

/** Free text longer than `max` characters cut to `max`, ending in `…` (never inside a surrogate pair). */
export function clip(text: string, max: number): string {
  const characters = Array.from(text);
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `20000.5` → `20,000.5`; keeps every digit it is given. */
export function groupDigits(value: string): string {
  const negative = value.startsWith('-');
  const [whole = '0', fraction] = (negative ? value.slice(1) : value).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}

/** A quantity or price as given, trailing zeros dropped: `20000.00` → `20,000`. */
export function quantity(value: string | Decimal): string {
  return groupDigits(new Decimal(value).toFixed());
}

/** Money with two decimals and thousands separators. */
export function money(value: string | Decimal, places = 2): string {
  return groupDigits(new Decimal(value).toFixed(places));
}

/** Money with its sign always shown: `+234.10`, `-12.00`. */
export function signedMoney(value: string | Decimal, places = 2): string {
  const decimal = new Decimal(value);
  return `${decimal.isNegative() && !decimal.isZero() ? '' : '+'}${money(decimal, places)}`;
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function timeFormat(timeZone: string, withDay: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withDay}`;
  let format = timeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      ...(withDay ? { weekday: 'short', day: 'numeric', month: 'short' } : { second: '2-digit' }),
    });
    timeFormats.set(key, format);
  }
  return format;
}

/** The calendar day of an instant in `timeZone`, `2026-11-24`. */
function dayOf(instantMs: number, timeZone: string): string {
  return new Date(wallClockMs(instantMs, timeZone)).toISOString().slice(0, 10);
}

/** How times are shown: in the operator's zone, with the day only when it is not today. */
export interface Clock {
  timeZone: string;
  now: number;
}

/** `14:32:05` today, `Mon 24 Nov 14:32` on another day. */
export function when(iso: string | Date, clock: Clock): string {
  const instant = typeof iso === 'string' ? Date.parse(iso) : iso.getTime();
  if (Number.isNaN(instant)) return String(iso);
  const today = dayOf(instant, clock.timeZone) === dayOf(clock.now, clock.timeZone);
  return timeFormat(clock.timeZone, !today).format(new Date(instant)).replace(',', '');
}

/** `2 h 5 min`, `45 s`: how long something has lasted. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} days`;
}

/**
 * Joins lines into one message no longer than `MAX_MESSAGE_LENGTH`. Lines that do not fit are replaced
 * by a note saying how many were left out, so nothing disappears unannounced; an open `<pre>` is closed.
 */
export function fitMessage(lines: readonly string[], limit = MAX_MESSAGE_LENGTH): string {
  const whole = lines.join('\n');
  if (whole.length <= limit) return whole;
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 1 > limit - 60) break;
    kept.push(line);
    length += line.length + 1;
  }
  const omitted = lines.length - kept.length;
  const openPre = kept.filter((line) => line.includes('<pre>')).length;
  const closedPre = kept.filter((line) => line.includes('</pre>')).length;
  if (openPre > closedPre) kept.push('</pre>');
  kept.push(`… ${omitted} more line${omitted === 1 ? '' : 's'} not shown`);
  return kept.join('\n');
}

/** Rows as aligned columns (for a `<pre>` block); cells are escaped. */
export function columns(rows: ReadonlyArray<readonly string[]>): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, column) => escapeHtml(cell.padEnd(column === row.length - 1 ? 0 : widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}
