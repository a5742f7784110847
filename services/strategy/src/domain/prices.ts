import type { InstrumentKey } from '@ibstack/contracts';
import { type FxRatesToUsd, fxRatesFromLastPrices, isFxRateKey } from '@ibstack/risk';

/**
 * What the engine knows of the market: the last price of each instrument, the currency each is quoted in,
 * and the FX rates to USD those prices imply (over the sleeves file's table). Pure state.
 */
export class MarketPrices {
  private readonly last = new Map<InstrumentKey, string>();
  /** Market time (epoch ms) of each last price: an older price (a replayed bar, a late tick) never replaces it. */
  private readonly asOf = new Map<InstrumentKey, number>();
  private readonly currencies: ReadonlyMap<InstrumentKey, string>;
  /** Rebuilt only after a USD pair's price changes: sizing and risk read the rates far more often. */
  private rates: FxRatesToUsd | undefined;
  /** Whether each instrument's price moves the rates (`isFxRateKey`), asked once per instrument. */
  private readonly movesRates = new Map<InstrumentKey, boolean>();

  constructor(
    instruments: Iterable<{ key: InstrumentKey; instrument: { currency: string } }>,
    private readonly baseRates: FxRatesToUsd,
  ) {
    this.currencies = new Map(
      [...instruments].map((configured) => [configured.key, configured.instrument.currency]),
    );
  }

  /** Last prices by instrument key. */
  get lastPrices(): ReadonlyMap<InstrumentKey, string> {
    return this.last;
  }

  /** Quote currencies by instrument key. */
  get quoteCurrencies(): ReadonlyMap<InstrumentKey, string> {
    return this.currencies;
  }

  price(instrument: InstrumentKey): string | undefined {
    return this.last.get(instrument);
  }

  has(instrument: InstrumentKey): boolean {
    return this.last.has(instrument);
  }

  /** Records a price observed at market time `asOfMs`; without a time (a fill) it is taken as the newest. */
  set(instrument: InstrumentKey, price: string, asOfMs?: number): void {
    const known = this.asOf.get(instrument);
    if (asOfMs !== undefined) {
      if (known !== undefined && asOfMs < known) return;
      this.asOf.set(instrument, asOfMs);
    }
    if (this.last.get(instrument) === price) return;
    this.last.set(instrument, price);
    // Only a USD pair's price moves the rates.
    let moves = this.movesRates.get(instrument);
    if (moves === undefined) this.movesRates.set(instrument, (moves = isFxRateKey(instrument)));
    if (moves) this.rates = undefined;
  }

  currencyOf(instrument: InstrumentKey): string | undefined {
    return this.currencies.get(instrument);
  }

  ratesToUsd(): FxRatesToUsd {
    this.rates ??= fxRatesFromLastPrices(Object.fromEntries(this.last), this.baseRates);
    return this.rates;
  }
}
