/**
 * Splits missing minutes into historical-data requests IB accepts. IB serves at most one day of 1-minute
 * bars per request, and the duration is given in seconds (`"3600 S"`, up to `"86400 S"`), which keeps each
 * window exact: a `"1 D"` duration means a calendar day in the gateway's zone, 23 or 25 hours around a
 * daylight-saving change. The end time goes as `yyyyMMdd-HH:mm:ss` in UTC, the unambiguous form IB
 * recommends.
 */
import { MINUTE_MS, type Timeframe } from '@ibstack/contracts';
import { formatIbUtcTime } from '@ibstack/ib';

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
  return { start: end - seconds * 1000, end, endDateTime: formatIbUtcTime(end), duration: `${seconds} S` };
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

/** Length of a chunk in minutes. */
export function chunkMinutes(chunk: Interval): number {
  return Math.round((chunk.end - chunk.start) / MINUTE_MS);
}
