/**
 * IB's ways of writing a time, read and written in one place:
 *
 * - `yyyyMMdd-HH:mm:ss`: UTC. What we send as a request's end or filter time, and how a gateway at our
 *   versions stamps historical answers (`finished-<start>-<end>`) and executions.
 * - `yyyyMMdd HH:mm:ss [zone]`: the wall clock in `zone` (`US/Eastern`, `UTC`, …), or in the gateway's own
 *   zone when none is given (two spaces between the parts happen).
 * - `yyyyMMdd`: a day (daily bars), from midnight in the gateway's zone.
 * - epoch seconds: what `formatDate 2` asks for.
 *
 * Pure: the zone arithmetic is Intl's (packages/contracts), no clock is read.
 */
import { instantOfWallClock, isValidTimeZone } from '@ibstack/contracts';

const pad = (value: number) => String(value).padStart(2, '0');

/** `yyyyMMdd-HH:mm:ss` in UTC. */
export function formatIbUtcTime(epochMs: number): string {
  const date = new Date(epochMs);
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}-` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  );
}

/** The wall-clock time written as if it were UTC; NaN for a date or time that does not exist. */
function wallClock(date: string, time = '00:00:00'): number {
  const [y, mo, d] = [date.slice(0, 4), date.slice(4, 6), date.slice(6, 8)].map(Number) as [
    number,
    number,
    number,
  ];
  const [h, mi, s] = time.split(':').map(Number) as [number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  const exists =
    check.getUTCFullYear() === y &&
    check.getUTCMonth() === mo - 1 &&
    check.getUTCDate() === d &&
    check.getUTCHours() === h &&
    check.getUTCMinutes() === mi &&
    check.getUTCSeconds() === s;
  return exists ? wall : Number.NaN;
}

/** Only the UTC form `yyyyMMdd-HH:mm:ss`; undefined for anything else (a stamp in an unknown zone). */
export function parseIbUtcTime(text: string): number | undefined {
  const match = /^(\d{8})-(\d{2}:\d{2}:\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const wall = wallClock(match[1]!, match[2]);
  return Number.isNaN(wall) ? undefined : wall;
}

/**
 * Any of IB's forms above, as epoch ms; NaN when unreadable (an unknown zone name included). A time without
 * a zone is read in `defaultZone`, the gateway's.
 */
export function parseIbTime(text: string, defaultZone: string): number {
  const value = text.trim();
  if (/^\d{9,11}$/.test(value)) return Number(value) * 1000;
  const utc = parseIbUtcTime(value);
  if (utc !== undefined) return utc;
  const local = /^(\d{8})(?:\s+(\d{2}:\d{2}:\d{2}))?(?:\s+(\S+))?$/.exec(value);
  if (!local) return Number.NaN;
  const zone = local[3] ?? defaultZone;
  if (!isValidTimeZone(zone)) return Number.NaN;
  const wall = wallClock(local[1]!, local[2]);
  return Number.isNaN(wall) ? Number.NaN : instantOfWallClock(wall, zone);
}
