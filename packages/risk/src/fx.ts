import Decimal from 'decimal.js';

import { MissingFxRateError } from './errors';

/** USD value of one unit of each currency, as decimal strings (`CAD: "0.72"` means 1 CAD = 0.72 USD). */
export type FxRatesToUsd = Readonly<Record<string, string>>;

/**
 * A fallback table for when no live rate is known. Approximate on purpose: it only sizes risk limits, and
 * callers should refresh it from prices with `fxRatesFromLastPrices`.
 */
export const DEFAULT_FX_RATES_TO_USD: FxRatesToUsd = Object.freeze({
  USD: '1',
  EUR: '1.08',
  GBP: '1.27',
  CAD: '0.72',
  JPY: '0.0067',
  AUD: '0.66',
  CHF: '1.13',
});

const USD_PAIR = /^([A-Z]{3})([A-Z]{3})$/;
/** Every operation rounded toward zero: an inverse rate never comes out above the true one. */
const DecimalDown = Decimal.clone({ rounding: Decimal.ROUND_DOWN });

/**
 * Derives rates from last prices of USD pairs, keyed by instrument key: `EURUSD: "1.09"` gives
 * EUR = 1.09, `USDCAD: "1.37"` gives CAD = 1/1.37. Other keys are ignored. Returns `base` overlaid with
 * what the prices say.
 */
export function fxRatesFromLastPrices(
  lastPrices: Readonly<Record<string, string>>,
  base: FxRatesToUsd = DEFAULT_FX_RATES_TO_USD,
): FxRatesToUsd {
  const rates: Record<string, string> = { ...base, USD: '1' };
  for (const [key, price] of Object.entries(lastPrices)) {
    const match = USD_PAIR.exec(key);
    if (!match) continue;
    const [, left, right] = match as unknown as [string, string, string];
    const value = new Decimal(price);
    if (!value.isFinite() || value.lte(0)) continue;
    if (right === 'USD' && left !== 'USD') rates[left] = value.toFixed();
    else if (left === 'USD' && right !== 'USD')
      // Rounded down: rounded up, 25 000 USD of USD.JPY (25 000 × 150 JPY) came to 25 000.0000000125 USD,
      // over a 25 000 USD limit, and a 25 000 USD target was sized a step short.
      rates[right] = new DecimalDown(1).div(value).toSignificantDigits(12).toFixed();
  }
  return Object.freeze(rates);
}

/** Whether `fxRatesFromLastPrices` reads the price of `key` (a USD pair): other prices leave the rates as they are. */
export function isFxRateKey(key: string): boolean {
  const match = USD_PAIR.exec(key);
  if (!match) return false;
  const [, left, right] = match as unknown as [string, string, string];
  return (right === 'USD') !== (left === 'USD');
}

/** The USD value of an amount in `currency`. Throws MissingFxRateError when the table lacks it. */
export function toUsd(amount: Decimal.Value, currency: string, rates: FxRatesToUsd): Decimal {
  const rate = rates[currency.toUpperCase()];
  if (rate === undefined) throw new MissingFxRateError(currency);
  return new Decimal(amount).mul(rate);
}
