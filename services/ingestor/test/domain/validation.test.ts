import { checkBar, checkNotFuture, InvalidKind, TickBook, TickField } from '../../src/domain/validation';

const T = Date.parse('2026-11-24T15:00:00Z');
const good = { ts: T, open: 1.4823, high: 1.4825, low: 1.482, close: 1.4821, volume: -1 };

describe('bar validation', () => {
  it('accepts a sound bar and turns IB -1 volume into 0', () => {
    expect(checkBar(good)).toEqual({
      ok: true,
      value: { ts: T, open: '1.4823', high: '1.4825', low: '1.482', close: '1.4821', volume: '0' },
    });
  });

  it.each([
    ['a NaN price', { ...good, close: Number.NaN }, InvalidKind.notANumber],
    ['a negative price', { ...good, low: -1.48 }, InvalidKind.negativePrice],
    [
      'high below low',
      { ...good, high: 1.48, low: 1.49, open: 1.485, close: 1.485 },
      InvalidKind.highBelowLow,
    ],
    ['a close above the high', { ...good, close: 1.5 }, InvalidKind.outsideRange],
  ])('rejects %s', (_name, raw, kind) => {
    expect(checkBar(raw)).toMatchObject({ ok: false, kind });
  });

  it('rejects a bar that ends after the latest time the gateway’s clock allows', () => {
    expect(checkNotFuture(T, 5_000, T + 5_000)).toEqual({ ok: true, value: T });
    expect(checkNotFuture(T + 86_400_000, 5_000, T + 5_000)).toMatchObject({
      ok: false,
      kind: InvalidKind.badTime,
    });
  });

  it('rejects a bar that does not advance time', () => {
    expect(checkBar(good, T)).toMatchObject({ ok: false, kind: InvalidKind.timeBackwards });
    expect(checkBar(good, T - 5_000).ok).toBe(true);
  });
});

describe('tick book', () => {
  it('makes one tick from a burst of price and size updates', () => {
    const book = new TickBook();
    book.applyPrice(TickField.bid, 1.4823);
    book.applySize(TickField.bidSize, 1_000_000);
    book.applyPrice(TickField.ask, 1.4824);
    book.applySize(TickField.askSize, 2_000_000);
    expect(book.snapshot(T)).toEqual({
      ok: true,
      value: { bid: '1.4823', bidSize: '1000000', ask: '1.4824', askSize: '2000000' },
    });
    expect(book.hasChanges).toBe(false);
  });

  it('clears a side on IB -1 ("no price") without calling it invalid', () => {
    const book = new TickBook();
    book.applyPrice(TickField.bid, 1.4823);
    book.applyPrice(TickField.ask, 1.4824);
    expect(book.applyPrice(TickField.bid, -1)).toEqual({ ok: true, value: true });
    expect(book.snapshot(T)).toEqual({ ok: true, value: { ask: '1.4824' } });
  });

  it('rejects NaN and negative prices, a crossed book and time going backwards', () => {
    const book = new TickBook();
    expect(book.applyPrice(TickField.bid, Number.NaN)).toMatchObject({
      ok: false,
      kind: InvalidKind.notANumber,
    });
    expect(book.applyPrice(TickField.bid, -2)).toMatchObject({ ok: false, kind: InvalidKind.negativePrice });
    book.applyPrice(TickField.bid, 1.49);
    book.applyPrice(TickField.ask, 1.48);
    expect(book.snapshot(T)).toMatchObject({ ok: false, kind: InvalidKind.crossedQuote });
    book.applyPrice(TickField.ask, 1.5);
    expect(book.snapshot(T).ok).toBe(true);
    expect(book.snapshot(T - 1)).toMatchObject({ ok: false, kind: InvalidKind.timeBackwards });
  });
});

describe('tick book conflation', () => {
  it('sees a bid after an ask as the start of the next quote, and a size after its price as the same quote', () => {
    const book = new TickBook();
    book.applyPrice(TickField.bid, 1.4823);
    expect(book.startsNewQuote(TickField.bidSize)).toBe(false);
    book.applySize(TickField.bidSize, 1_000_000);
    book.applyPrice(TickField.ask, 1.4824);
    expect(book.startsNewQuote(TickField.askSize)).toBe(false);
    // The next quote changes the bid: the pending one (bid 1.4823, ask 1.4824) must go out first.
    expect(book.startsNewQuote(TickField.bid)).toBe(true);
    book.snapshot(T);
    expect(book.startsNewQuote(TickField.bid)).toBe(false);
  });
});
