/**
 * Per-minute extremes and sums of the quote series. A bar folds in one summary per whole minute and single
 * seconds only at its ragged edges, so a bar of any intraday length is exact (every second of the live
 * series counts, as in the 5-second bars streamed live) and a second request over the same stretch costs
 * a lookup per minute.
 *
 * Invariant: folding a minute's summary gives the same totals as folding its 60 seconds one by one. Sums
 * are kept in whole ticks (integers) so they do not depend on the order of addition.
 */
import type { SimInstrument } from './instruments';
import type { Quote, QuoteBook } from './quotes';

/** Running totals over a set of seconds. */
export interface SeriesTotals {
  seconds: number;
  bidHigh: number;
  bidLow: number;
  askHigh: number;
  askLow: number;
  midHigh: number;
  midLow: number;
  lastHigh: number;
  lastLow: number;
  /** Σ bid in ticks. */
  bidTicks: number;
  /** Σ ask in ticks. */
  askTicks: number;
  /** Σ last-trade size (one trade a second for stocks; 0 for forex). */
  volume: number;
  /** Σ last in ticks × last size. */
  notionalTicks: number;
}

export function emptyTotals(): SeriesTotals {
  return {
    seconds: 0,
    bidHigh: -Infinity,
    bidLow: Infinity,
    askHigh: -Infinity,
    askLow: Infinity,
    midHigh: -Infinity,
    midLow: Infinity,
    lastHigh: -Infinity,
    lastLow: Infinity,
    bidTicks: 0,
    askTicks: 0,
    volume: 0,
    notionalTicks: 0,
  };
}

const { max, min, round } = Math;

const FIELDS = 13;
const MINUTES_PER_BLOCK = 1024;

interface Block {
  values: Float64Array;
  filled: Uint8Array;
}

function foldQuote(totals: SeriesTotals, quote: Quote, minTick: number): void {
  totals.seconds += 1;
  totals.bidHigh = max(totals.bidHigh, quote.bid);
  totals.bidLow = min(totals.bidLow, quote.bid);
  totals.askHigh = max(totals.askHigh, quote.ask);
  totals.askLow = min(totals.askLow, quote.ask);
  totals.midHigh = max(totals.midHigh, quote.mid);
  totals.midLow = min(totals.midLow, quote.mid);
  totals.lastHigh = max(totals.lastHigh, quote.last);
  totals.lastLow = min(totals.lastLow, quote.last);
  totals.bidTicks += round(quote.bid / minTick);
  totals.askTicks += round(quote.ask / minTick);
  totals.volume += quote.lastSize;
  totals.notionalTicks += round(quote.last / minTick) * quote.lastSize;
}

function store(values: Float64Array, offset: number, totals: SeriesTotals): void {
  values[offset] = totals.seconds;
  values[offset + 1] = totals.bidHigh;
  values[offset + 2] = totals.bidLow;
  values[offset + 3] = totals.askHigh;
  values[offset + 4] = totals.askLow;
  values[offset + 5] = totals.midHigh;
  values[offset + 6] = totals.midLow;
  values[offset + 7] = totals.lastHigh;
  values[offset + 8] = totals.lastLow;
  values[offset + 9] = totals.bidTicks;
  values[offset + 10] = totals.askTicks;
  values[offset + 11] = totals.volume;
  values[offset + 12] = totals.notionalTicks;
}

function foldStored(totals: SeriesTotals, values: Float64Array, offset: number): void {
  totals.seconds += values[offset]!;
  totals.bidHigh = max(totals.bidHigh, values[offset + 1]!);
  totals.bidLow = min(totals.bidLow, values[offset + 2]!);
  totals.askHigh = max(totals.askHigh, values[offset + 3]!);
  totals.askLow = min(totals.askLow, values[offset + 4]!);
  totals.midHigh = max(totals.midHigh, values[offset + 5]!);
  totals.midLow = min(totals.midLow, values[offset + 6]!);
  totals.lastHigh = max(totals.lastHigh, values[offset + 7]!);
  totals.lastLow = min(totals.lastLow, values[offset + 8]!);
  totals.bidTicks += values[offset + 9]!;
  totals.askTicks += values[offset + 10]!;
  totals.volume += values[offset + 11]!;
  totals.notionalTicks += values[offset + 12]!;
}

export class MinuteSummaries {
  private readonly blocks = new Map<string, Block>();

  /**
   * @param maxBlocks Blocks of 1024 minutes (about 100 KiB each) kept across all instruments; the oldest
   *   filled is dropped first. @default 128
   */
  constructor(
    private readonly book: QuoteBook,
    private readonly maxBlocks = 128,
  ) {}

  /** Folds the seconds `firstSecond` … `lastSecond` (inclusive, epoch seconds) into `totals`. */
  accumulate(instrument: SimInstrument, firstSecond: number, lastSecond: number, totals: SeriesTotals): void {
    const minTick = instrument.minTick;
    let second = firstSecond;
    while (second <= lastSecond) {
      if (second % 60 === 0 && second + 59 <= lastSecond) {
        this.foldMinute(instrument, second / 60, totals);
        second += 60;
      } else {
        foldQuote(totals, this.book.atSecond(instrument, second, false), minTick);
        second += 1;
      }
    }
  }

  private foldMinute(instrument: SimInstrument, minute: number, totals: SeriesTotals): void {
    const blockIndex = Math.floor(minute / MINUTES_PER_BLOCK);
    const blockKey = `${instrument.key}:${blockIndex}`;
    let block = this.blocks.get(blockKey);
    if (!block) {
      if (this.blocks.size >= this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value!);
      block = {
        values: new Float64Array(MINUTES_PER_BLOCK * FIELDS),
        filled: new Uint8Array(MINUTES_PER_BLOCK),
      };
      this.blocks.set(blockKey, block);
    }
    const slot = minute - blockIndex * MINUTES_PER_BLOCK;
    const offset = slot * FIELDS;
    if (!block.filled[slot]) {
      const summary = emptyTotals();
      const first = minute * 60;
      for (let second = first; second < first + 60; second++)
        foldQuote(summary, this.book.atSecond(instrument, second, false), instrument.minTick);
      store(block.values, offset, summary);
      block.filled[slot] = 1;
    }
    foldStored(totals, block.values, offset);
  }
}
