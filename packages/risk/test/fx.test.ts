import {
  DEFAULT_FX_RATES_TO_USD,
  fxRatesFromLastPrices,
  isReducing,
  MissingFxRateError,
  reducingQuantity,
  toUsd,
} from '@ibstack/risk';
import Decimal from 'decimal.js';

describe('fx rates', () => {
  it('has a default for the major currencies', () => {
    expect(Object.keys(DEFAULT_FX_RATES_TO_USD).sort()).toEqual([
      'AUD',
      'CAD',
      'CHF',
      'EUR',
      'GBP',
      'JPY',
      'USD',
    ]);
  });

  it('derives rates from last prices of USD pairs in either direction and ignores other keys', () => {
    const rates = fxRatesFromLastPrices({
      EURUSD: '1.1',
      USDCAD: '1.25',
      USDJPY: '160',
      EURCAD: '1.5',
      AAPL: '200',
    });
    expect(rates.EUR).toBe('1.1');
    expect(rates.CAD).toBe('0.8');
    expect(rates.JPY).toBe('0.00625');
    expect(rates.GBP).toBe(DEFAULT_FX_RATES_TO_USD.GBP);
    expect(rates.USD).toBe('1');
  });

  it.each([
    ['USDJPY', '150', 'JPY'],
    ['USDJPY', '100.013', 'JPY'],
    ['USDJPY', '157.333', 'JPY'],
    ['USDCAD', '1.00013', 'CAD'],
    ['USDCAD', '1.37', 'CAD'],
    ['USDCHF', '0.9', 'CHF'],
  ])(
    'values a USD amount bought through %s at %s at no more than itself (the inverse rounded down)',
    (key, price, currency) => {
      // 25 000 USD of USD.JPY is 25 000 × 150 JPY. Rounded up, 1/150 made that 25 000.0000000125 USD: over
      // a 25 000 USD limit, and a 25 000 USD sleeve sized one step short (24 000 in steps of 1 000).
      const rates = fxRatesFromLastPrices({ [key]: price });
      const usd = toUsd(new Decimal('25000').mul(price), currency, rates);
      expect(usd.lte(25000)).toBe(true);
      expect(usd.gt('24999.999999')).toBe(true);
    },
  );

  it('converts exactly and throws a named error for an unknown currency', () => {
    expect(toUsd('30000', 'CAD', { CAD: '0.72' }).toFixed()).toBe('21600');
    expect(() => toUsd('1', 'SEK', DEFAULT_FX_RATES_TO_USD)).toThrow(MissingFxRateError);
  });
});

describe('position helpers', () => {
  it('recognises a reduction only when the position shrinks toward zero without flipping', () => {
    expect(isReducing('100', 'SELL', '100')).toBe(true);
    expect(isReducing('100', 'SELL', '101')).toBe(false);
    expect(isReducing('-100', 'BUY', '40')).toBe(true);
    expect(isReducing('0', 'SELL', '1')).toBe(false);
    expect(isReducing('100', 'BUY', '1')).toBe(false);
  });

  it('clips a flipping order to the part that closes the position', () => {
    expect(reducingQuantity('100', 'SELL', '250').toFixed()).toBe('100');
    expect(reducingQuantity('100', 'SELL', '30').toFixed()).toBe('30');
    expect(reducingQuantity('-100', 'SELL', '30').toFixed()).toBe('0');
    expect(reducingQuantity('0', 'BUY', '30').toFixed()).toBe('0');
  });
});
