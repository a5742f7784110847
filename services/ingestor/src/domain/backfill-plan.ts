/**
 * Splits missing minutes into historical-data requests IB accepts. IB serves at most one day of 1-minute
 * bars per request, and the duration is given in seconds (`"3600 S"`, up to `"86400 S"`), which keeps each
 * window exact: a `"1 D"` duration means a calendar day in the gateway's zone, 23 or 25 hours around a
 * daylight-saving change. The end time goes as `yyyyMMdd-HH:mm:ss` in UTC, the unambiguous form IB
 * recommends.
 */
import { DateTime } from 'luxon';
import { MINUTE_MS, type Timeframe } from '@ibstack/contracts';

import type { Interval } from './trading-hours';

/** One historical request: bars that start in [start, end). */
export interface Chunk extends Interval {
  /** IB `endDateTime`. */
  endDateTime: string;
  /** IB `durationStr`. */
  duration: string;
}

/** IB's shortest duration is 30 seconds; a one-minute window asks for 60. */
const MIN_DURATION_SECONDS = 60;
/** IB refuses durations in seconds above one day. */
export const MAX_CHUNK_SECONDS = 86_400;

/**
 * Requests that together cover every missing range. Each request spans at most `maxChunkSeconds`; ranges
 * close together share a request (a closed stretch between them costs nothing: IB returns no bars for
 * it). Newest first, because the most recent bars are what a strategy needs first after a restart.
 */
export function planChunks(missing: readonly Interval[], maxChunkSeconds = MAX_CHUNK_SECONDS): Chunk[] {
  const maxMs = Math.min(maxChunkSeconds, MAX_CHUNK_SECONDS) * 1000;
  const sorted = [...missing].filter((range) => range.end > range.start).sort((a, b) => b.end - a.end);
  const chunks: Chunk[] = [];
  let index = 0;
  while (index < sorted.length) {
    const end = sorted[index]!.end;
    const floor = end - maxMs;
    let start = end;
    // Take ranges (newest first) while they fit in one window; split a range that does not fit.
    while (index < sorted.length && sorted[index]!.end > floor) {
      const range = sorted[index]!;
      if (range.start >= floor) {
        start = range.start;
        index += 1;
      } else {
        start = floor;
        sorted[index] = { start: range.start, end: floor };
        break;
      }
    }
    chunks.push(chunkFor(start, end));
  }
  return chunks;
}

/** The request for bars that start in [start, end). */
export function chunkFor(start: number, end: number): Chunk {
  const seconds = Math.max(MIN_DURATION_SECONDS, Math.ceil((end - start) / 1000));
  return { start: end - seconds * 1000, end, endDateTime: ibEndDateTime(end), duration: `${seconds} S` };
}

/** `yyyyMMdd-HH:mm:ss` in UTC. */
export function ibEndDateTime(time: number): string {
  return DateTime.fromMillis(time, { zone: 'UTC' }).toFormat('yyyyMMdd-HH:mm:ss');
}

/** IB's `barSizeSetting` for a timeframe. */
export const IB_BAR_SIZE: Readonly<Record<Timeframe, string>> = {
  '5s': '5 secs',
  '1m': '1 min',
  '5m': '5 mins',
  '15m': '15 mins',
  '30m': '30 mins',
  '1h': '1 hour',
  '4h': '4 hours',
  '1d': '1 day',
};

/**
 * Reads the time of a historical bar: epoch seconds (formatDate 2, what we ask for) or IB's
 * `yyyyMMdd HH:mm:ss [zone]` / `yyyyMMdd-HH:mm:ss` (UTC) forms. Returns NaN when unreadable.
 */
export function parseHistoricalTime(text: string, defaultZone: string): number {
  const value = text.trim();
  if (/^\d{9,11}$/.test(value)) return Number(value) * 1000;
  const utc = /^(\d{8})-(\d{2}:\d{2}:\d{2})$/.exec(value);
  if (utc) return DateTime.fromFormat(`${utc[1]} ${utc[2]}`, 'yyyyMMdd HH:mm:ss', { zone: 'UTC' }).toMillis();
  const local = /^(\d{8})(?:\s+(\d{2}:\d{2}:\d{2}))?(?:\s+(\S+))?$/.exec(value);
  if (!local) return Number.NaN;
  const parsed = DateTime.fromFormat(`${local[1]} ${local[2] ?? '00:00:00'}`, 'yyyyMMdd HH:mm:ss', {
    zone: local[3] ?? defaultZone,
  });
  return parsed.isValid ? parsed.toMillis() : Number.NaN;
}

/** Length of a chunk in minutes. */
export function chunkMinutes(chunk: Interval): number {
  return Math.round((chunk.end - chunk.start) / MINUTE_MS);
}
