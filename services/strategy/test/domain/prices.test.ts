import { MarketPrices } from '../../src/domain/prices';

const instruments = [
  { key: 'EURCAD', instrument: { currency: 'CAD' } },
  { key: 'USDCAD', instrument: { currency: 'CAD' } },
];

describe('market prices', () => {
  it('knows each instrument quote currency and its last price', () => {
    const prices = new MarketPrices(instruments, { USD: '1', CAD: '0.72' });
    expect(prices.currencyOf('EURCAD')).toBe('CAD');
    expect(prices.currencyOf('AAPL')).toBeUndefined();
    expect(prices.has('EURCAD')).toBe(false);
    prices.set('EURCAD', '1.5');
    expect(prices.price('EURCAD')).toBe('1.5');
    expect(prices.lastPrices).toEqual(new Map([['EURCAD', '1.5']]));
  });

  it('derives FX rates from the last prices of USD pairs, over the configured table', () => {
    const prices = new MarketPrices(instruments, { USD: '1', CAD: '0.72' });
    expect(prices.ratesToUsd()).toEqual({ USD: '1', CAD: '0.72' });
    prices.set('USDCAD', '1.25');
    expect(prices.ratesToUsd()).toEqual({ USD: '1', CAD: '0.8' });
    prices.set('USDCAD', '1.6');
    expect(prices.ratesToUsd().CAD).toBe('0.625');
  });

  it('keeps the newest price when an older one arrives later (a replayed bar, a late tick)', () => {
    const prices = new MarketPrices(instruments, { USD: '1', CAD: '0.72' });
    prices.set('EURCAD', '1.51', 2_000);
    prices.set('EURCAD', '1.40', 1_000);
    expect(prices.price('EURCAD')).toBe('1.51');
    prices.set('EURCAD', '1.52', 2_000);
    expect(prices.price('EURCAD')).toBe('1.52');
    // A fill's price carries no market time and always counts.
    prices.set('EURCAD', '1.53');
    expect(prices.price('EURCAD')).toBe('1.53');
  });
});
