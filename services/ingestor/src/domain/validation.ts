/**
 * What counts as bad market data, and how raw gateway numbers become decimal strings. Anything rejected
 * here is dropped with a counter (`md_invalid_total{instrument,kind}`) and a log line, never published.
 */
import Decimal from 'decimal.js';
import { toDecimalString } from '@ibstack/contracts';

import type { Ohlcv } from './bars';

export const InvalidKind = {
  notANumber: 'not_a_number',
  negativePrice: 'negative_price',
  highBelowLow: 'high_below_low',
  outsideRange: 'open_close_outside_range',
  timeBackwards: 'time_backwards',
  badTime: 'bad_time',
  crossedQuote: 'crossed_quote',
  negativeSize: 'negative_size',
  /** Passed the checks here but not the message contract (packages/contracts). */
  contract: 'contract',
} as const;
export type InvalidKind = (typeof InvalidKind)[keyof typeof InvalidKind];

export type Checked<T> = { ok: true; value: T } | { ok: false; kind: InvalidKind; reason: string };

export interface RawBar {
  /** Bar open time, epoch ms. */
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** IB sends -1 where there is no volume (forex); that becomes 0. */
  volume: number;
}

/** Checks a bar from the gateway and converts it to decimal strings. */
export function checkBar(raw: RawBar, previousTs?: number): Checked<Ohlcv> {
  if (!Number.isFinite(raw.ts) || raw.ts <= 0)
    return { ok: false, kind: InvalidKind.badTime, reason: `bar time ${raw.ts}` };
  if (previousTs !== undefined && raw.ts <= previousTs)
    return {
      ok: false,
      kind: InvalidKind.timeBackwards,
      reason: `bar at ${new Date(raw.ts).toISOString()} after ${new Date(previousTs).toISOString()}`,
    };
  const prices = [raw.open, raw.high, raw.low, raw.close];
  if (!prices.every(Number.isFinite) || Number.isNaN(raw.volume))
    return { ok: false, kind: InvalidKind.notANumber, reason: `bar ${JSON.stringify(raw)}` };
  if (prices.some((price) => price <= 0))
    return { ok: false, kind: InvalidKind.negativePrice, reason: `bar prices ${prices.join(', ')}` };
  if (raw.high < raw.low)
    return { ok: false, kind: InvalidKind.highBelowLow, reason: `high ${raw.high} < low ${raw.low}` };
  if (raw.open > raw.high || raw.open < raw.low || raw.close > raw.high || raw.close < raw.low)
    return {
      ok: false,
      kind: InvalidKind.outsideRange,
      reason: `open ${raw.open} / close ${raw.close} outside ${raw.low}..${raw.high}`,
    };
  const volume = Number.isFinite(raw.volume) && raw.volume > 0 ? raw.volume : 0;
  return {
    ok: true,
    value: {
      ts: raw.ts,
      open: toDecimalString(raw.open),
      high: toDecimalString(raw.high),
      low: toDecimalString(raw.low),
      close: toDecimalString(raw.close),
      volume: toDecimalString(volume),
    },
  };
}

/**
 * Rejects a bar that ends later than the gateway's clock allows (`latestEnd`: its time now plus a
 * tolerance). Checked before the bar touches the clock or the series: the clock never goes back, and
 * every sound bar after a future-dated one would otherwise look like time going backwards.
 */
export function checkNotFuture(ts: number, durationMs: number, latestEnd: number): Checked<number> {
  if (ts + durationMs <= latestEnd) return { ok: true, value: ts };
  return {
    ok: false,
    kind: InvalidKind.badTime,
    reason: `bar at ${new Date(ts).toISOString()} ends after the gateway's time (${new Date(latestEnd).toISOString()} at the latest)`,
  };
}

/** IB tick types the ingestor reads (`TickType` in the TWS API). */
export const TickField = {
  bidSize: 0,
  bid: 1,
  ask: 2,
  askSize: 3,
  last: 4,
  lastSize: 5,
  delayedBid: 66,
  delayedAsk: 67,
  delayedLast: 68,
  delayedBidSize: 69,
  delayedAskSize: 70,
  delayedLastSize: 71,
} as const;

/** Position of each field in a quote as IB sends it. */
const QUOTE_ORDER: ReadonlyMap<number, number> = new Map([
  [TickField.bid, 0],
  [TickField.delayedBid, 0],
  [TickField.bidSize, 1],
  [TickField.delayedBidSize, 1],
  [TickField.ask, 2],
  [TickField.delayedAsk, 2],
  [TickField.askSize, 3],
  [TickField.delayedAskSize, 3],
  [TickField.last, 4],
  [TickField.delayedLast, 4],
  [TickField.lastSize, 5],
  [TickField.delayedLastSize, 5],
]);

type Side = 'bid' | 'ask' | 'last';
type SizeSide = 'bidSize' | 'askSize' | 'lastSize';

const PRICE_FIELDS: ReadonlyMap<number, Side> = new Map([
  [TickField.bid, 'bid'],
  [TickField.ask, 'ask'],
  [TickField.last, 'last'],
  [TickField.delayedBid, 'bid'],
  [TickField.delayedAsk, 'ask'],
  [TickField.delayedLast, 'last'],
]);
const SIZE_FIELDS: ReadonlyMap<number, SizeSide> = new Map([
  [TickField.bidSize, 'bidSize'],
  [TickField.askSize, 'askSize'],
  [TickField.lastSize, 'lastSize'],
  [TickField.delayedBidSize, 'bidSize'],
  [TickField.delayedAskSize, 'askSize'],
  [TickField.delayedLastSize, 'lastSize'],
]);

export interface TopOfBook {
  bid?: string;
  ask?: string;
  last?: string;
  bidSize?: string;
  askSize?: string;
  lastSize?: string;
}

/**
 * The top of book of one instrument, updated field by field as IB sends it (a price, then its size).
 * The caller publishes one tick per quote update with `snapshot()`: after a burst of updates, or when an
 * update starts the next quote (`startsNewQuote`).
 */
export class TickBook {
  private book: TopOfBook = {};
  private changedSinceSnapshot = false;
  /** The latest position in quote order (bid, bid size, ask, ask size, last, last size) updated since the snapshot. */
  private latestRank = -1;
  private lastTs: number | undefined;

  /** Applies a price update. IB's -1 (and 0) mean "no price now": the side is cleared, not an error. */
  applyPrice(field: number, value: number): Checked<boolean> {
    const side = PRICE_FIELDS.get(field);
    if (!side) return { ok: true, value: false };
    if (!Number.isFinite(value))
      return { ok: false, kind: InvalidKind.notANumber, reason: `${side} price ${value}` };
    if (value === -1 || value === 0) {
      this.touch(field);
      if (this.book[side] !== undefined) {
        delete this.book[side];
        this.changedSinceSnapshot = true;
      }
      return { ok: true, value: true };
    }
    if (value < 0) return { ok: false, kind: InvalidKind.negativePrice, reason: `${side} price ${value}` };
    this.touch(field);
    const text = toDecimalString(value);
    if (this.book[side] !== text) {
      this.book[side] = text;
      this.changedSinceSnapshot = true;
    }
    return { ok: true, value: true };
  }

  /** Applies a size update; sizes of absent sides are kept until the side returns. */
  applySize(field: number, value: number | undefined): Checked<boolean> {
    const side = SIZE_FIELDS.get(field);
    if (!side || value === undefined) return { ok: true, value: false };
    if (!Number.isFinite(value))
      return { ok: false, kind: InvalidKind.notANumber, reason: `${side} ${value}` };
    if (value < 0) return { ok: false, kind: InvalidKind.negativeSize, reason: `${side} ${value}` };
    this.touch(field);
    const text = toDecimalString(value);
    if (this.book[side] !== text) {
      this.book[side] = text;
      this.changedSinceSnapshot = true;
    }
    return { ok: true, value: true };
  }

  get hasChanges(): boolean {
    return this.changedSinceSnapshot;
  }

  /**
   * Whether an update of this field starts a new quote. IB sends a quote's fields in a fixed order (bid,
   * bid size, ask, ask size, last, last size), so a field at or before the latest one updated belongs to
   * the next quote: the pending one must be published first, or it would be lost to conflation (and a new
   * bid with the previous ask could look crossed).
   */
  startsNewQuote(field: number): boolean {
    const rank = QUOTE_ORDER.get(field);
    return this.changedSinceSnapshot && rank !== undefined && rank <= this.latestRank;
  }

  private touch(field: number): void {
    this.latestRank = Math.max(this.latestRank, QUOTE_ORDER.get(field) ?? -1);
  }

  /**
   * The book as a tick at venue time `ts` (undefined when no side has a price), or why it cannot be one.
   * A crossed book or a time before the previous tick is rejected. Sizes travel only with their price.
   */
  snapshot(ts: number): Checked<TopOfBook | undefined> {
    this.changedSinceSnapshot = false;
    this.latestRank = -1;
    const { bid, ask, last } = this.book;
    // Every side cleared (IB's "no price now"): nothing to publish, and nothing wrong.
    if (bid === undefined && ask === undefined && last === undefined) return { ok: true, value: undefined };
    if (bid !== undefined && ask !== undefined && new Decimal(bid).gt(ask))
      return { ok: false, kind: InvalidKind.crossedQuote, reason: `bid ${bid} > ask ${ask}` };
    if (this.lastTs !== undefined && ts < this.lastTs)
      return {
        ok: false,
        kind: InvalidKind.timeBackwards,
        reason: `tick at ${new Date(ts).toISOString()} after ${new Date(this.lastTs).toISOString()}`,
      };
    this.lastTs = ts;
    const tick: TopOfBook = {};
    if (bid !== undefined) {
      tick.bid = bid;
      if (this.book.bidSize !== undefined) tick.bidSize = this.book.bidSize;
    }
    if (ask !== undefined) {
      tick.ask = ask;
      if (this.book.askSize !== undefined) tick.askSize = this.book.askSize;
    }
    if (last !== undefined) {
      tick.last = last;
      if (this.book.lastSize !== undefined) tick.lastSize = this.book.lastSize;
    }
    return { ok: true, value: tick };
  }

  /** Forgets the book (a new subscription starts from nothing). */
  reset(): void {
    this.book = {};
    this.changedSinceSnapshot = false;
    this.latestRank = -1;
  }
}
