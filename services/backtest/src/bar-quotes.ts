/**
 * Quotes for the simulated venue's matching engine built from bars, so a backtest fills with the gateway-
 * sim's own matching and commissions but on historical prices. Within a bar the mid walks open → low →
 * high → close (or open → high → low → close for a falling bar) in straight lines, so a limit or stop
 * order that the bar's range reaches is filled at the price it would have met. The spread is the sim's
 * narrowest for the instrument (its `spreadTicks`), the book sizes the middle of its range.
 *
 * Currency pairs without bars (the USD legs that value cash and convert commissions) quote the sleeves
 * file's FX rates, except that a currency traded against one with a fixed rate takes its rate from that
 * pair's bars: with EUR.CAD replayed and CAD fixed, EUR.USD is EUR.CAD × CAD's rate, so the account values
 * the EUR it holds at the replayed price, as the sim's crosses do.
 */
import type { Bar } from '@ibstack/contracts';
import type { MarketQuote, QuoteSource, SimInstrument } from '@ibstack/gateway-sim';
import { roundToTick } from '@ibstack/gateway-sim';

interface BarSeries {
  instrument: SimInstrument;
  bars: readonly Bar[];
  starts: Float64Array;
  /** A bar's prices are read from its strings the first time a quote needs them (`parsed`). */
  parsed: Uint8Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  durationMs: number;
  /** Index of the bar the last lookup found: lookups move forward in time, so this is nearly always it. */
  cursor: number;
}

export class BarQuotes implements QuoteSource {
  private readonly series = new Map<string, BarSeries>();
  /**
   * The last quote built per instrument: the matching engine and the account ask for the same second many
   * times (every valuation reads every currency's rate), and a quote is a pure function of the second.
   * Shared, as the sim's own quote book shares its cached quotes: readers do not change them.
   */
  private readonly lastQuotes = new Map<string, MarketQuote>();
  /**
   * Where each currency's USD rate comes from (`rateAt`), worked out once per currency after the bars are
   * added: a replayed pair and the fixed rate of its quote currency, or a fixed rate alone.
   */
  private readonly rateSources = new Map<string, { series: BarSeries | undefined; fixed: number }>();

  /** @param ratesToUsd USD per unit of each currency, for instruments without bars. */
  constructor(private readonly ratesToUsd: Readonly<Record<string, string>>) {}

  /**
   * Bars of one instrument, oldest first, of one timeframe. `starts`: their open times (epoch ms), when
   * the caller has parsed them already. The list is kept and read as quotes are asked for: it must not
   * change afterwards.
   */
  addBars(
    instrument: SimInstrument,
    bars: readonly Bar[],
    durationMs: number,
    starts?: ArrayLike<number>,
  ): void {
    const n = bars.length;
    // Prices are parsed when first quoted: a run asks for quotes only while orders work or a position is
    // held, so most of a year of bars is never priced.
    const series: BarSeries = {
      instrument,
      bars,
      starts: new Float64Array(n),
      parsed: new Uint8Array(n),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      durationMs,
      cursor: 0,
    };
    for (let index = 0; index < n; index++)
      series.starts[index] = starts ? starts[index]! : Date.parse(bars[index]!.ts);
    this.series.set(instrument.key, series);
    this.lastQuotes.clear();
    this.rateSources.clear();
  }

  hasBars(venueKey: string): boolean {
    return this.series.has(venueKey);
  }

  at(instrument: SimInstrument, time: number): MarketQuote {
    return this.atSecond(instrument, Math.floor(time / 1000));
  }

  atSecond(instrument: SimInstrument, second: number): MarketQuote {
    const time = second * 1000;
    const cached = this.lastQuotes.get(instrument.key);
    if (cached !== undefined && cached.time === time) return cached;
    const quote = this.buildQuote(instrument, time);
    this.lastQuotes.set(instrument.key, quote);
    return quote;
  }

  private buildQuote(instrument: SimInstrument, time: number): MarketQuote {
    const mid = this.midAt(instrument, time);
    const dynamics = instrument.pricing.dynamics;
    const bidTicks = Math.floor(mid / instrument.minTick - dynamics.spreadTicks / 2);
    const bid = roundToTick(bidTicks * instrument.minTick, instrument);
    const ask = roundToTick((bidTicks + dynamics.spreadTicks) * instrument.minTick, instrument);
    const steps = Math.floor((dynamics.maxBookSize - dynamics.minBookSize) / dynamics.bookSizeStep / 2);
    const size = dynamics.minBookSize + steps * dynamics.bookSizeStep;
    const quoteMid = (bid + ask) / 2;
    return {
      time,
      bid,
      ask,
      mid: quoteMid,
      bidSize: size,
      askSize: size,
      last: roundToTick(quoteMid, instrument),
      lastSize: 0,
      volume: 0,
    };
  }

  /** The mid at `time`: on the bar's path, the last close after the last bar, the first open before the first. */
  private midAt(instrument: SimInstrument, time: number): number {
    const series = this.series.get(instrument.key);
    return series ? pathMid(series, time) : this.legMid(instrument, time);
  }

  /** A pair without bars, from the two currencies' USD rates at `time`. */
  private legMid(instrument: SimInstrument, time: number): number {
    if (instrument.secType !== 'CASH')
      throw new Error(`no bars for ${instrument.label}, and only currency pairs can be priced from FX rates`);
    return this.rateAt(instrument.symbol, time) / this.rateAt(instrument.currency, time);
  }

  /** USD per unit of `currency`: from a replayed pair against a fixed-rate currency, else the fixed rate. */
  private rateAt(currency: string, time: number): number {
    if (currency === 'USD') return 1;
    let source = this.rateSources.get(currency);
    if (source === undefined) {
      source = this.rateSource(currency);
      this.rateSources.set(currency, source);
    }
    return source.series ? pathMid(source.series, time) * source.fixed : source.fixed;
  }

  /** The replayed pair (and its quote currency's fixed rate) that prices `currency`, else its fixed rate. */
  private rateSource(currency: string): { series: BarSeries | undefined; fixed: number } {
    for (const series of this.series.values()) {
      const { instrument } = series;
      if (instrument.secType !== 'CASH' || instrument.symbol !== currency) continue;
      if (instrument.currency !== 'USD' && this.series.has(`${instrument.currency}USD`)) continue;
      return { series, fixed: this.fixedRate(instrument.currency) };
    }
    return { series: undefined, fixed: this.fixedRate(currency) };
  }

  private fixedRate(currency: string): number {
    if (currency === 'USD') return 1;
    const value = this.ratesToUsd[currency];
    if (value === undefined) throw new Error(`no USD rate for ${currency} (add it to fxRatesToUsd)`);
    return Number(value);
  }
}

/** The mid at `time` on a series' path: the last close after the last bar, the first open before the first. */
function pathMid(series: BarSeries, time: number): number {
  const index = locate(series, time);
  if (index < 0) {
    parse(series, 0);
    return series.open[0]!;
  }
  parse(series, index);
  const start = series.starts[index]!;
  const open = series.open[index]!;
  const close = series.close[index]!;
  const offset = time - start;
  if (offset >= series.durationMs) return close;
  const rising = close >= open;
  const first = rising ? series.low[index]! : series.high[index]!;
  const second = rising ? series.high[index]! : series.low[index]!;
  // Four points at 0, ⅓, ⅔ and the last second of the bar.
  const span = Math.max(1, series.durationMs - 1000);
  const t = Math.min(1, offset / span) * 3;
  if (t <= 1) return open + (first - open) * t;
  if (t <= 2) return first + (second - first) * (t - 1);
  return second + (close - second) * (t - 2);
}

/** Reads a bar's prices into the series' arrays, once. */
function parse(series: BarSeries, index: number): void {
  if (series.parsed[index] === 1) return;
  const bar = series.bars[index]!;
  series.open[index] = Number(bar.open);
  series.high[index] = Number(bar.high);
  series.low[index] = Number(bar.low);
  series.close[index] = Number(bar.close);
  series.parsed[index] = 1;
}

/** Index of the last bar starting at or before `time`; -1 before the first. */
function locate(series: BarSeries, time: number): number {
  const { starts } = series;
  let index = series.cursor;
  if (index < starts.length && starts[index]! <= time) {
    while (index + 1 < starts.length && starts[index + 1]! <= time) index += 1;
    series.cursor = index;
    return index;
  }
  // Backwards (rare): binary search.
  let low = 0;
  let high = starts.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle]! <= time) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  if (found >= 0) series.cursor = found;
  return found;
}
