import Decimal from 'decimal.js';
import { z } from 'zod';

import { InstrumentKey } from './instrument';
import { DecimalString, NonNegativeDecimalString, PositiveDecimalString, Timestamp, V1 } from './primitives';

/** Bar lengths the stack knows. `5s` is IB's real-time bar; the rest are aggregated or requested. */
export const Timeframe = z.enum(['5s', '1m', '5m', '15m', '30m', '1h', '4h', '1d']);
export type Timeframe = z.infer<typeof Timeframe>;

export const TIMEFRAME_SECONDS: Readonly<Record<Timeframe, number>> = {
  '5s': 5,
  '1m': 60,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '4h': 14_400,
  '1d': 86_400,
};

/** A top-of-book update. Sizes may be absent when the venue sends a price alone. */
export const Tick = z
  .object({
    v: V1,
    instrument: InstrumentKey,
    /** Venue time of the update. */
    ts: Timestamp,
    /** Our time of receipt. */
    receivedAt: Timestamp,
    bid: PositiveDecimalString.optional(),
    ask: PositiveDecimalString.optional(),
    last: PositiveDecimalString.optional(),
    bidSize: NonNegativeDecimalString.optional(),
    askSize: NonNegativeDecimalString.optional(),
    lastSize: NonNegativeDecimalString.optional(),
  })
  .strict()
  .refine((tick) => tick.bid !== undefined || tick.ask !== undefined || tick.last !== undefined, {
    message: 'a tick needs at least one of bid, ask, last',
  })
  .refine((tick) => !(tick.bid && tick.ask) || new Decimal(tick.bid).lte(tick.ask), {
    message: 'bid must not exceed ask',
    path: ['bid'],
  });
export type Tick = z.infer<typeof Tick>;

/** An OHLCV bar keyed by (instrument, timeframe, ts = bar open time). A revised bar replaces the old one. */
export const Bar = z
  .object({
    v: V1,
    instrument: InstrumentKey,
    timeframe: Timeframe,
    /** Bar open time (venue clock), aligned to the timeframe. */
    ts: Timestamp,
    open: PositiveDecimalString,
    high: PositiveDecimalString,
    low: PositiveDecimalString,
    close: PositiveDecimalString,
    volume: NonNegativeDecimalString,
    /** `live` from real-time bars, `backfill` from historical data. */
    source: z.enum(['live', 'backfill']),
    receivedAt: Timestamp,
  })
  .strict()
  .superRefine((bar, ctx) => {
    const [open, high, low, close] = [bar.open, bar.high, bar.low, bar.close].map((x) => new Decimal(x)) as [
      Decimal,
      Decimal,
      Decimal,
      Decimal,
    ];
    if (high.lt(low)) ctx.addIssue({ code: 'custom', message: 'high must be >= low', path: ['high'] });
    if (high.lt(open) || high.lt(close))
      ctx.addIssue({ code: 'custom', message: 'high must be >= open and close', path: ['high'] });
    if (low.gt(open) || low.gt(close))
      ctx.addIssue({ code: 'custom', message: 'low must be <= open and close', path: ['low'] });
  });
export type Bar = z.infer<typeof Bar>;

/** Re-exported so producers can state a bar's numbers without importing decimal.js themselves. */
export { DecimalString };
