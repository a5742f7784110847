import type { Logger } from '@ibstack/observability';
import type { FxRatesToUsd } from '@ibstack/risk';
import Decimal from 'decimal.js';

import type { MarketPrices } from './domain/prices';
import type { SleeveBook } from './domain/sleeve-book';
import type { StrategyMetrics } from './metrics';
import type { SleeveRunner } from './sleeve-runners';

/**
 * Keeps the exposure and P&L gauges current: `sleeve_exposure_pct` and `sleeve_pnl_usd` per sleeve,
 * `portfolio_gross_exposure_usd` and `portfolio_net_exposure_usd` across them, at the last prices.
 */
export class SleeveMetrics {
  constructor(
    private readonly deps: {
      runners: readonly SleeveRunner[];
      book: SleeveBook;
      prices: MarketPrices;
      metrics: StrategyMetrics;
      log: Logger;
      /** False where nobody scrapes the gauges (a backtest): valuing every sleeve on every bar is not free. */
      enabled?: boolean;
    },
  ) {}

  update(): void {
    if (this.deps.enabled === false) return;
    const { runners, book, prices, metrics, log } = this.deps;
    const rates = prices.ratesToUsd();
    for (const runner of runners) {
      try {
        const figures = book.figures(runner.config.name, prices.lastPrices, prices.quoteCurrencies, rates);
        const capital = new Decimal(runner.config.capitalUsd);
        metrics.sleeveExposurePct.set(
          { sleeve: runner.config.name },
          figures.grossExposureUsd.div(capital).mul(100).toNumber(),
        );
        metrics.sleevePnlUsd.set({ sleeve: runner.config.name }, figures.pnlUsd.toNumber());
      } catch (error) {
        log.warn({ err: error, sleeve: runner.config.name }, 'could not value the sleeve');
      }
    }
    const { gross, net } = portfolioExposureUsd(book.portfolioPositions(), prices, rates);
    metrics.grossExposureUsd.set(gross.toNumber());
    metrics.netExposureUsd.set(net.toNumber());
  }
}

/** Gross (sum of absolute values) and net exposure in USD; instruments without a price or rate are left out. */
function portfolioExposureUsd(
  positions: ReadonlyMap<string, Decimal>,
  prices: MarketPrices,
  rates: FxRatesToUsd,
): { gross: Decimal; net: Decimal } {
  let gross = new Decimal(0);
  let net = new Decimal(0);
  for (const [instrument, quantity] of positions) {
    const price = prices.price(instrument);
    const currency = prices.currencyOf(instrument);
    const rate = currency ? rates[currency] : undefined;
    if (price === undefined || rate === undefined) continue;
    const value = quantity.mul(price).mul(rate);
    gross = gross.add(value.abs());
    net = net.add(value);
  }
  return { gross, net };
}
