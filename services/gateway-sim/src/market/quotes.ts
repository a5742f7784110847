/**
 * Top-of-book quotes per instrument and simulated second. Deterministic for a seed: the mid comes from the
 * instrument's price path (or its USD legs for crosses, or a replay file), the spread, sizes and last trade
 * from hashes of the second. A quote holds for a whole second of simulated time.
 */
import type { CsvPrices } from './csv-prices';
import type { InstrumentTable, SimInstrument } from './instruments';
import { MinuteSummaries } from './minute-summaries';
import { hashInts, hashString, PricePath, unit } from './price-model';

export interface Quote {
  /** Start of the simulated second, epoch ms. */
  time: number;
  bid: number;
  ask: number;
  /** (bid + ask) / 2, not rounded. */
  mid: number;
  bidSize: number;
  askSize: number;
  /** Last trade price (stocks) or the mid rounded to the tick (forex, which has no trades). */
  last: number;
  lastSize: number;
  /** Shares traded since 05:00 UTC (stocks); 0 for forex. */
  volume: number;
}

/** Where the matching engine reads quotes: the simulated market, or (in a backtest) quotes built from bars. */
export interface QuoteSource {
  /** The quote in force at `time` (epoch ms). */
  at(instrument: SimInstrument, time: number): Quote;
  /** The quote of one simulated second. */
  atSecond(instrument: SimInstrument, second: number): Quote;
}

const CACHE_SECONDS = 4096;

// Module-local Math functions: see price-model.ts (global lookups are slow inside a vm context).
const { floor, max, round } = Math;

/** `ticks × minTick` without float residue (1.48235, not 1.4823500000000001). */
export function ticksToPrice(ticks: number, instrument: SimInstrument): number {
  const scale = 10 ** instrument.priceDecimals;
  return round(ticks * instrument.minTick * scale) / scale;
}

export function roundToTick(price: number, instrument: SimInstrument): number {
  return ticksToPrice(round(price / instrument.minTick), instrument);
}

/** A top-of-book size drawn from the second's hash (a plain function: no closure per quote). */
function bookSize(
  dynamics: SimInstrument['pricing']['dynamics'],
  stream: number,
  second: number,
  salt: number,
): number {
  const steps = floor((dynamics.maxBookSize - dynamics.minBookSize) / dynamics.bookSizeStep) + 1;
  return dynamics.minBookSize + dynamics.bookSizeStep * floor(unit(hashInts(stream, second, salt)) * steps);
}

export class QuoteBook implements QuoteSource {
  private readonly paths = new Map<string, PricePath>();
  private readonly cache = new Map<string, Map<number, Quote>>();
  private readonly streams = new Map<string, number>();
  private readonly legs = new Map<string, [SimInstrument, SimInstrument]>();
  /** Per-minute extremes and sums, for exact intraday bars. */
  readonly minutes = new MinuteSummaries(this);

  constructor(
    readonly instruments: InstrumentTable,
    private readonly seed: number,
    private readonly csv?: CsvPrices,
  ) {
    for (const instrument of instruments.all) {
      const dynamics = instrument.pricing.dynamics;
      this.paths.set(
        instrument.key,
        new PricePath(seed, instrument.key, dynamics.level, dynamics.annualVolatility),
      );
      this.streams.set(instrument.key, hashInts(seed >>> 0, hashString(`${instrument.key}:book`)));
      if (instrument.pricing.kind === 'cross') {
        const [first, second] = instrument.pricing.legs;
        this.legs.set(instrument.key, [instruments.get(first), instruments.get(second)]);
      }
    }
  }

  /** The quote in force at `time` (epoch ms). */
  at(instrument: SimInstrument, time: number): Quote {
    return this.atSecond(instrument, floor(time / 1000));
  }

  /** `remember: false` for sweeps (historical requests) that would only evict the live seconds. */
  atSecond(instrument: SimInstrument, second: number, remember = true): Quote {
    if (!remember) return this.cache.get(instrument.key)?.get(second) ?? this.compute(instrument, second);
    let perInstrument = this.cache.get(instrument.key);
    if (!perInstrument) {
      perInstrument = new Map();
      this.cache.set(instrument.key, perInstrument);
    }
    const cached = perInstrument.get(second);
    if (cached) return cached;
    const quote = this.compute(instrument, second);
    if (perInstrument.size >= CACHE_SECONDS) perInstrument.clear();
    perInstrument.set(second, quote);
    return quote;
  }

  /** The unrounded mid of an instrument at a second (USD legs multiplied or divided for crosses). */
  midAt(instrument: SimInstrument, second: number): number {
    const replayed = this.csv?.at(instrument.key, second * 1000);
    if (replayed) return (replayed.bid + replayed.ask) / 2;
    if (instrument.pricing.kind === 'cross') {
      const [first, last] = this.legs.get(instrument.key)!;
      const a = this.midAt(first, second);
      const b = this.midAt(last, second);
      return instrument.pricing.combine === 'multiply' ? a * b : a / b;
    }
    return this.paths.get(instrument.key)!.mid(second);
  }

  private compute(instrument: SimInstrument, second: number): Quote {
    const dynamics = instrument.pricing.dynamics;
    const stream = this.streams.get(instrument.key)!;
    const time = second * 1000;
    const replayed = this.csv?.at(instrument.key, time);
    let bid: number;
    let ask: number;
    if (replayed) {
      bid = roundToTick(replayed.bid, instrument);
      ask = max(roundToTick(replayed.ask, instrument), bid);
    } else {
      const mid = this.midAt(instrument, second);
      const spreadTicks = dynamics.spreadTicks * (unit(hashInts(stream, second, 1)) < 0.6 ? 1 : 2);
      const bidTicks = floor(mid / instrument.minTick - spreadTicks / 2);
      bid = ticksToPrice(bidTicks, instrument);
      ask = ticksToPrice(bidTicks + spreadTicks, instrument);
    }
    const bidSize = replayed?.bidSize ?? bookSize(dynamics, stream, second, 2);
    const askSize = replayed?.askSize ?? bookSize(dynamics, stream, second, 3);
    const mid = (bid + ask) / 2;
    if (instrument.secType === 'CASH') {
      return {
        time,
        bid,
        ask,
        mid,
        bidSize,
        askSize,
        last: roundToTick(mid, instrument),
        lastSize: 0,
        volume: 0,
      };
    }
    const last = replayed?.last ?? (unit(hashInts(stream, second, 4)) < 0.5 ? bid : ask);
    const lastSize = 100 * (1 + floor(unit(hashInts(stream, second, 5)) * 5));
    // Volume since 05:00 UTC (New York midnight in winter) at a steady 300 shares a second.
    const secondsToday = (second - 5 * 3600) % 86_400;
    const volume = max(0, round((secondsToday * 300) / 100) * 100);
    return { time, bid, ask, mid, bidSize, askSize, last, lastSize, volume };
  }
}
