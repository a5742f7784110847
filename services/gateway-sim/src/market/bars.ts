/**
 * OHLC bars over the quote series. Real-time 5-second bars, keep-up-to-date updates and historical bars
 * all go through `computeBar`, so a historical bar equals the live bar of the same interval, and an
 * intraday bar of any length has the high and low of the 5-second bars inside it.
 */
import type { SimInstrument } from './instruments';
import { emptyTotals } from './minute-summaries';
import type { QuoteBook, Quote } from './quotes';
import type { Interval } from './trading-hours';

export const WhatToShow = {
  midpoint: 'MIDPOINT',
  bid: 'BID',
  ask: 'ASK',
  bidAsk: 'BID_ASK',
  trades: 'TRADES',
} as const;
export type WhatToShow = (typeof WhatToShow)[keyof typeof WhatToShow];

export interface Bar {
  /** Bar start, epoch ms. */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** -1 where IB sends -1 (forex has no volume). */
  volume: number;
  wap: number;
  count: number;
}

/** The longest bar computed from every second: 8 hours, IB's longest intraday bar. */
export const EXACT_BAR_SECONDS = 28_800;

/**
 * Seconds between samples for a bar: every second for intraday bars (exact, through the per-minute
 * summaries), about 60 samples a bar for daily and longer bars (open and close stay exact; high and low
 * are those of the samples), which would otherwise need every second of up to 30 years.
 */
export function sampleStep(barSeconds: number): number {
  return barSeconds <= EXACT_BAR_SECONDS ? 1 : Math.floor(barSeconds / 60);
}

function seriesValue(quote: Quote, whatToShow: WhatToShow): number {
  switch (whatToShow) {
    case 'BID':
      return quote.bid;
    case 'ASK':
      return quote.ask;
    case 'TRADES':
      return quote.last;
    default:
      return quote.mid;
  }
}

/** The seconds sampled inside the open parts of a bar: every `step`-th, plus each part's last second. */
function sampleSeconds(parts: readonly Interval[], step: number): number[] {
  const seconds: number[] = [];
  for (const part of parts) {
    const first = Math.ceil(part.start / 1000);
    const last = Math.ceil(part.end / 1000) - 1;
    for (let second = first; second <= last; second += step) seconds.push(second);
    if (last >= first && seconds[seconds.length - 1] !== last) seconds.push(last);
  }
  return seconds;
}

function roundPrice(value: number, instrument: SimInstrument, extraDecimals = 0): number {
  return Number(value.toFixed(instrument.priceDecimals + extraDecimals));
}

/**
 * The bar for the open parts of one interval; undefined when no part is open. `step` is the sampling step in
 * seconds (1 = exact).
 */
export function computeBar(
  book: QuoteBook,
  instrument: SimInstrument,
  whatToShow: WhatToShow,
  start: number,
  parts: readonly Interval[],
  step = 1,
  remember = true,
): Bar | undefined {
  if (step === 1) return exactBar(book, instrument, whatToShow, start, parts, remember);
  const seconds = sampleSeconds(parts, step);
  if (seconds.length === 0) return undefined;
  const quotes = seconds.map((second) => book.atSecond(instrument, second, remember));
  const first = quotes[0]!;
  const last = quotes[quotes.length - 1]!;
  const extra = whatToShow === 'MIDPOINT' || whatToShow === 'BID_ASK' ? 1 : 0;
  if (whatToShow === 'BID_ASK') {
    // IB's BID_ASK bars: open = time-average bid, high = max ask, low = min bid, close = time-average ask.
    const averageBid = quotes.reduce((sum, quote) => sum + quote.bid, 0) / quotes.length;
    const averageAsk = quotes.reduce((sum, quote) => sum + quote.ask, 0) / quotes.length;
    return {
      start,
      open: roundPrice(averageBid, instrument, extra),
      high: Math.max(...quotes.map((quote) => quote.ask)),
      low: Math.min(...quotes.map((quote) => quote.bid)),
      close: roundPrice(averageAsk, instrument, extra),
      volume: -1,
      wap: -1,
      count: -1,
    };
  }
  let high = -Infinity;
  let low = Infinity;
  for (const quote of quotes) {
    const value = seriesValue(quote, whatToShow);
    if (value > high) high = value;
    if (value < low) low = value;
  }
  const bar: Bar = {
    start,
    open: roundPrice(seriesValue(first, whatToShow), instrument, extra),
    high: roundPrice(high, instrument, extra),
    low: roundPrice(low, instrument, extra),
    close: roundPrice(seriesValue(last, whatToShow), instrument, extra),
    volume: -1,
    wap: -1,
    count: -1,
  };
  if (whatToShow === 'TRADES' && instrument.secType === 'STK') {
    let volume = 0;
    let notional = 0;
    for (const quote of quotes) {
      volume += quote.lastSize * step;
      notional += quote.last * quote.lastSize * step;
    }
    bar.volume = volume;
    bar.wap = volume > 0 ? roundPrice(notional / volume, instrument, 2) : bar.close;
    bar.count = Math.round(volume / 100);
  }
  return bar;
}

/** A bar over every second of its open parts: whole minutes from the book's summaries, edges second by second. */
function exactBar(
  book: QuoteBook,
  instrument: SimInstrument,
  whatToShow: WhatToShow,
  start: number,
  parts: readonly Interval[],
  remember: boolean,
): Bar | undefined {
  const totals = emptyTotals();
  let firstSecond: number | undefined;
  let lastSecond = 0;
  for (const part of parts) {
    const first = Math.ceil(part.start / 1000);
    const last = Math.ceil(part.end / 1000) - 1;
    if (last < first) continue;
    firstSecond ??= first;
    lastSecond = last;
    book.minutes.accumulate(instrument, first, last, totals);
  }
  if (firstSecond === undefined) return undefined;
  const extra = whatToShow === 'MIDPOINT' || whatToShow === 'BID_ASK' ? 1 : 0;
  const noVolume = { volume: -1, wap: -1, count: -1 };
  if (whatToShow === 'BID_ASK') {
    // IB's BID_ASK bars: open = time-average bid, high = max ask, low = min bid, close = time-average ask.
    return {
      start,
      open: roundPrice((totals.bidTicks / totals.seconds) * instrument.minTick, instrument, extra),
      high: totals.askHigh,
      low: totals.bidLow,
      close: roundPrice((totals.askTicks / totals.seconds) * instrument.minTick, instrument, extra),
      ...noVolume,
    };
  }
  const [high, low] =
    whatToShow === 'BID'
      ? [totals.bidHigh, totals.bidLow]
      : whatToShow === 'ASK'
        ? [totals.askHigh, totals.askLow]
        : whatToShow === 'TRADES'
          ? [totals.lastHigh, totals.lastLow]
          : [totals.midHigh, totals.midLow];
  const bar: Bar = {
    start,
    open: roundPrice(
      seriesValue(book.atSecond(instrument, firstSecond, remember), whatToShow),
      instrument,
      extra,
    ),
    high: roundPrice(high, instrument, extra),
    low: roundPrice(low, instrument, extra),
    close: roundPrice(
      seriesValue(book.atSecond(instrument, lastSecond, remember), whatToShow),
      instrument,
      extra,
    ),
    ...noVolume,
  };
  if (whatToShow === 'TRADES' && instrument.secType === 'STK') {
    bar.volume = totals.volume;
    bar.wap =
      totals.volume > 0
        ? roundPrice((totals.notionalTicks / totals.volume) * instrument.minTick, instrument, 2)
        : bar.close;
    bar.count = Math.round(totals.volume / 100);
  }
  return bar;
}
