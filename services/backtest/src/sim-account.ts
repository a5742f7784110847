/**
 * The simulated account's snapshots, as execution records them from the broker's account values: the
 * venue's figures as the sim reports them (to the cent), then `@ibstack/risk`'s account figures, the
 * formula execution uses: daily P&L and return against the trading day's opening NAV (IB rolls the day at
 * 17:00 New York), high-water mark and drawdown. The strategy's daily-loss and drawdown rules read them.
 */
import type { AccountSnapshot } from '@ibstack/contracts';
import { type Broker, formatMoney } from '@ibstack/gateway-sim';
import { type AccountFigures, accountFigures, tradingDayStart } from '@ibstack/risk';

const HOUR_MS = 3_600_000;

/**
 * An account value as execution stores it: the sim's figure to the cent, as a plain decimal string
 * (`toDecimalString` of the reported `"1000.50"` is `"1000.5"`; a number of cents never prints with an
 * exponent, so `String(Number(…))` is the same string).
 */
const accountValue = (value: number) => String(Number(formatMoney(value)));

export class SimAccount {
  /** Highest NAV of the snapshots so far (a decimal string); null before the first. */
  private highWaterMark: string | null = null;
  private dayStartMs = Number.NEGATIVE_INFINITY;
  private nextDayStartMs = Number.NEGATIVE_INFINITY;
  /** NAV of the trading day's first snapshot; null until there is one. */
  private dayOpening: string | null = null;
  /** The last figures and what they were computed from: an unchanged NAV gives the same figures. */
  private last:
    | { nav: string; opening: string | null; highWaterMark: string | null; figures: AccountFigures }
    | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly account: string,
  ) {}

  /** Whether `time` is in a later trading day than the last snapshot's. */
  isNewDay(time: number): boolean {
    return time >= this.nextDayStartMs;
  }

  /** The account at `time` (the broker's clock must stand there), and its net liquidation in USD. */
  snapshot(time: number): { snapshot: AccountSnapshot; netLiquidation: number } {
    const venue = this.broker.figures();
    const nav = accountValue(venue.netLiquidation);
    if (this.isNewDay(time)) {
      this.dayStartMs = tradingDayStart(time);
      // The next day starts 23 to 25 hours later (daylight saving); 25 hours in is always inside it.
      this.nextDayStartMs = tradingDayStart(this.dayStartMs + 25 * HOUR_MS);
      this.dayOpening = null;
    }
    const figures = this.figures(nav);
    this.dayOpening ??= figures.netLiquidation;
    this.highWaterMark = figures.highWaterMark;
    return {
      netLiquidation: venue.netLiquidation,
      snapshot: {
        v: 1,
        account: this.account,
        currency: 'USD',
        netLiquidation: figures.netLiquidation,
        cash: accountValue(venue.totalCashValue),
        realizedPnl: accountValue(venue.realizedPnl),
        unrealizedPnl: accountValue(venue.unrealizedPnl),
        dailyPnl: figures.dailyPnl,
        dailyReturnPct: figures.dailyReturnPct,
        highWaterMark: figures.highWaterMark,
        drawdownPct: figures.drawdownPct,
        ts: new Date(time).toISOString(),
      },
    };
  }

  private figures(nav: string): AccountFigures {
    const { last, dayOpening: opening, highWaterMark } = this;
    if (last && last.nav === nav && last.opening === opening && last.highWaterMark === highWaterMark)
      return last.figures;
    const figures = accountFigures({
      netLiquidation: nav,
      dayOpeningNetLiquidation: opening,
      previousHighWaterMark: highWaterMark,
    });
    this.last = { nav, opening, highWaterMark, figures };
    return figures;
  }
}
