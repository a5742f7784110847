import { InstrumentTable } from '../../src/market/instruments';
import { PricePath, ValueNoiseWalk } from '../../src/market/price-model';
import { QuoteBook } from '../../src/market/quotes';

const START = Math.floor(Date.parse('2026-03-03T15:00:00Z') / 1000);

describe('price model', () => {
  const table = new InstrumentTable();

  it('gives the same prices for the same seed and different ones for another seed', () => {
    const a = new QuoteBook(table, 42);
    const b = new QuoteBook(table, 42);
    const c = new QuoteBook(table, 7);
    const instrument = table.get('EURUSD');
    for (const second of [START, START + 1, START + 86_400 * 30]) {
      expect(a.atSecond(instrument, second)).toEqual(b.atSecond(instrument, second));
    }
    expect(a.atSecond(instrument, START).mid).not.toBe(c.atSecond(instrument, START).mid);
  });

  it('evaluates any second directly: random access agrees with a sequential sweep', () => {
    const sequential = new ValueNoiseWalk(1234);
    const random = new ValueNoiseWalk(1234);
    const seconds = Array.from({ length: 500 }, (_, i) => START + i * 37);
    const swept = seconds.map((second) => sequential.at(second));
    const shuffled = [...seconds]
      .reverse()
      .map((second) => random.at(second))
      .reverse();
    expect(shuffled).toEqual(swept);
  });

  it('has increments with the variance of a random walk (σ²·Δ) from seconds to days', () => {
    const walk = new ValueNoiseWalk(99);
    for (const lag of [1, 60, 3_600, 86_400]) {
      let sum = 0;
      const samples = 2_000;
      for (let i = 0; i < samples; i++) {
        const second = START + i * 104_729;
        const difference = walk.at(second + lag) - walk.at(second);
        sum += difference * difference;
      }
      const ratio = sum / samples / lag;
      expect(ratio).toBeGreaterThan(0.7);
      expect(ratio).toBeLessThan(1.4);
    }
  });

  it('keeps prices near a realistic level with the instrument volatility', () => {
    const path = new PricePath(42, 'EURUSD', 1.085, 0.07);
    const dailyReturns: number[] = [];
    for (let day = 0; day < 250; day++) {
      const second = START + day * 86_400;
      const mid = path.mid(second);
      expect(mid).toBeGreaterThan(1.085 * 0.8);
      expect(mid).toBeLessThan(1.085 * 1.2);
      dailyReturns.push(Math.log(path.mid(second + 86_400) / mid));
    }
    const variance = dailyReturns.reduce((sum, value) => sum + value * value, 0) / dailyReturns.length;
    const annualised = Math.sqrt(variance * 365.25);
    expect(annualised).toBeGreaterThan(0.035);
    expect(annualised).toBeLessThan(0.14);
  });

  it('quotes on the tick with a positive spread and sizes within the book range', () => {
    const book = new QuoteBook(table, 42);
    for (const key of ['EURCAD', 'EURUSD', 'USDJPY', 'AAPL']) {
      const instrument = table.get(key);
      for (let i = 0; i < 200; i++) {
        const quote = book.atSecond(instrument, START + i * 17);
        expect(quote.ask).toBeGreaterThan(quote.bid);
        const ticks = quote.bid / instrument.minTick;
        expect(Math.abs(ticks - Math.round(ticks))).toBeLessThan(1e-6);
        expect(quote.bidSize).toBeGreaterThanOrEqual(instrument.pricing.dynamics.minBookSize);
        expect(quote.askSize).toBeLessThanOrEqual(instrument.pricing.dynamics.maxBookSize);
      }
    }
  });

  it('prices crosses from their USD legs, so EUR.CAD equals EUR.USD × USD.CAD', () => {
    const book = new QuoteBook(table, 42);
    const cross = book.midAt(table.get('EURCAD'), START);
    expect(cross).toBeCloseTo(
      book.midAt(table.get('EURUSD'), START) * book.midAt(table.get('USDCAD'), START),
      12,
    );
  });
});
