import { commonEnv, gatewayEnv, port } from '@ibstack/config';
import {
  type Instrument,
  instrumentKey,
  type InstrumentKey,
  parseInstrumentSpec,
  Timeframe,
} from '@ibstack/contracts';
import { z } from 'zod';

const positiveInteger = (fallback: number, minimum = 1, unit = 'an integer') =>
  z.coerce
    .number({ error: `must be ${unit}` })
    .int(`must be ${unit}`)
    .min(minimum)
    .default(fallback);

const commaList = (value: string) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

const instrumentList = z
  .string()
  .default('EUR.CAD')
  .transform((value, ctx) => {
    const instruments: Instrument[] = [];
    const seen = new Set<string>();
    for (const spec of commaList(value)) {
      try {
        const instrument = parseInstrumentSpec(spec);
        const key = instrumentKey(instrument);
        if (seen.has(key)) {
          ctx.addIssue({ code: 'custom', message: `instrument "${spec}" is listed twice` });
          continue;
        }
        seen.add(key);
        instruments.push(instrument);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }
    if (instruments.length === 0 && commaList(value).length === 0)
      ctx.addIssue({ code: 'custom', message: 'must name at least one instrument, e.g. EUR.CAD' });
    return instruments;
  });

/** Timeframes the ingestor builds from the 1-minute series; `5s` is IB's raw real-time bar, not a target. */
const BAR_TIMEFRAMES = Timeframe.options.filter((timeframe) => timeframe !== '5s');

const timeframeList = z
  .string()
  .default('1m')
  .transform((value, ctx) => {
    const timeframes = new Set<Timeframe>(['1m']);
    for (const part of commaList(value)) {
      if (!(BAR_TIMEFRAMES as readonly string[]).includes(part)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${part}" is not a bar timeframe; use any of ${BAR_TIMEFRAMES.join(', ')}`,
        });
        continue;
      }
      timeframes.add(part as Timeframe);
    }
    // Ascending by length, so the 1-minute base series always comes first.
    return BAR_TIMEFRAMES.filter((timeframe) => timeframes.has(timeframe));
  });

/** Instrument specs whose ticks go to the `ticks` table, as keys (`EURCAD`). */
const tickStoreList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const keys: InstrumentKey[] = [];
    for (const spec of commaList(value)) {
      try {
        keys.push(instrumentKey(parseInstrumentSpec(spec)));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }
    return keys;
  });

/**
 * The ingestor's environment. Every default works on a developer machine against the simulated gateway.
 * Unknown variables are ignored (the environment holds much else); each listed one is validated.
 */
export const ingestorEnv = commonEnv.extend(gatewayEnv.shape).extend({
  /** @default 9401 */
  HTTP_PORT: port.default(9401),
  /** Execution uses 10; the gateway allows each client id once. @default 20 */
  IB_CLIENT_ID: z.coerce.number({ error: 'must be an integer' }).int().min(0).default(20),
  /** Forex pairs and stocks, `EUR.CAD,USD.JPY,AAPL` or `SYMBOL:SECTYPE:EXCHANGE:CURRENCY`. @default EUR.CAD */
  INSTRUMENTS: instrumentList,
  /** Bar timeframes to publish and store; `1m` is always included. @default 1m */
  TIMEFRAMES: timeframeList,
  /** Instruments whose ticks are also stored in Postgres (table `ticks`). @default "" (none) */
  STORE_TICKS: tickStoreList,
  /** Look-back of the start-up backfill and of every gap repair, in days (fractions allowed). @default 5 */
  BACKFILL_DAYS: z.coerce.number({ error: 'must be a number of days' }).min(0).max(365).default(5),
  /**
   * Longest window one historical request covers, in seconds. IB allows at most 1 day of 1-minute bars
   * per request (and at most 86400 for a duration in seconds). @default 86400
   */
  BACKFILL_CHUNK_SECONDS: positiveInteger(86_400, 60).refine((value) => value <= 86_400, {
    message: 'must be at most 86400 (IB serves at most one day of 1-minute bars per request)',
  }),
  /** What real-time and historical bars show for stocks (forex always uses MIDPOINT). @default TRADES */
  STOCK_WHAT_TO_SHOW: z.enum(['TRADES', 'MIDPOINT', 'BID', 'ASK']).default('TRADES'),
  /** Bars written to Postgres per batch at most. @default 500 */
  BAR_BATCH_SIZE: positiveInteger(500, 1),
  /** Longest a live bar waits in the batch before it is written. @default 1000 */
  BAR_FLUSH_INTERVAL_MS: positiveInteger(1_000, 10, 'a number of milliseconds'),
  /**
   * How bars reach Postgres: multi-row `insert … on conflict`, `copy` into a staging table followed by an
   * upsert, or `auto`: insert below 100 rows (live batches), copy from 100 (backfill chunks), each the faster
   * at its size as measured by `npm run bench -- ingestor`. @default auto
   */
  BAR_WRITE_METHOD: z.enum(['auto', 'insert', 'copy']).default('auto'),
  /** Bars kept in memory while Postgres is unreachable; beyond it the oldest are dropped (and repaired from history later). @default 100000 */
  BAR_QUEUE_LIMIT: positiveInteger(100_000, 100),
  /** How often the stored series is checked for holes while running. @default 60000 */
  GAP_CHECK_INTERVAL_MS: positiveInteger(60_000, 100, 'a number of milliseconds'),
  /** No tick for this long while the market is open counts as stale. @default 30000 */
  STALE_AFTER_MS: positiveInteger(30_000, 10, 'a number of milliseconds'),
  /** A historical request without an answer after this long is given up (and retried later). @default 60000 */
  HISTORY_TIMEOUT_MS: positiveInteger(60_000, 100, 'a number of milliseconds'),
  /** Attempts per historical chunk before it is left to the next gap check. @default 3 */
  HISTORY_MAX_ATTEMPTS: positiveInteger(3, 1),
  /** Pause after a refused historical request (error 162) before the next attempt. @default 15000 */
  HISTORY_RETRY_DELAY_MS: positiveInteger(15_000, 0, 'a number of milliseconds'),
  /** IB pacing: historical requests allowed per window. @default 60 */
  PACING_MAX_REQUESTS: positiveInteger(60, 1),
  /** @default 600000 (10 minutes) */
  PACING_WINDOW_MS: positiveInteger(600_000, 1, 'a number of milliseconds'),
  /** IB pacing: an identical request is not repeated within this window. @default 15000 */
  PACING_IDENTICAL_WINDOW_MS: positiveInteger(15_000, 0, 'a number of milliseconds'),
  /** IB pacing: requests for one contract allowed per short window (IB: six or more is a violation). @default 5 */
  PACING_SAME_CONTRACT_MAX_REQUESTS: positiveInteger(5, 1),
  /** @default 2000 */
  PACING_SAME_CONTRACT_WINDOW_MS: positiveInteger(2_000, 0, 'a number of milliseconds'),
  /** Added to every pacing wait, for clock and network skew between us and the gateway. @default 100 */
  PACING_MARGIN_MS: positiveInteger(100, 0, 'a number of milliseconds'),
});

export type IngestorConfig = z.infer<typeof ingestorEnv>;

/** Cross-variable checks: a STORE_TICKS entry must name a configured instrument. */
export function checkIngestorEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  const configured = new Set<string>();
  for (const spec of commaList(env.INSTRUMENTS ?? 'EUR.CAD')) {
    try {
      configured.add(instrumentKey(parseInstrumentSpec(spec)));
    } catch {
      // Reported by the schema.
    }
  }
  const problems: string[] = [];
  for (const spec of commaList(env.STORE_TICKS ?? '')) {
    try {
      const key = instrumentKey(parseInstrumentSpec(spec));
      if (!configured.has(key))
        problems.push(`STORE_TICKS: "${spec}" is not among INSTRUMENTS, so it has no ticks to store`);
    } catch {
      // Reported by the schema.
    }
  }
  return problems;
}
