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
});
