/**
 * The simulated account's snapshots, as execution records them from the broker's account values: net
 * liquidation, cash and P&L, daily P&L and return against the trading day's opening NAV (IB rolls the day
 * at 17:00 New York), high-water mark and drawdown. The strategy's daily-loss and drawdown rules read them.
 */
import { type AccountSnapshot, HOUR_MS, sessionOf } from '@ibstack/contracts';
import type { Broker } from '@ibstack/gateway-sim';

export class SimAccount {
  private highWaterMark: number | undefined;
  private dayStartMs = Number.NEGATIVE_INFINITY;
  private nextDayStartMs = Number.NEGATIVE_INFINITY;
  private dayOpening = 0;

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
    const figures = this.broker.figures();
    const nav = figures.netLiquidation;
    if (this.isNewDay(time)) {
      this.dayStartMs = sessionOf(time, 'America/New_York', 17).startMs;
      // The next day starts 23 to 25 hours later (daylight saving); 25 hours in is always inside it.
      this.nextDayStartMs = sessionOf(this.dayStartMs + 25 * HOUR_MS, 'America/New_York', 17).startMs;
      this.dayOpening = nav;
    }
    this.highWaterMark = Math.max(nav, this.highWaterMark ?? nav);
    const dailyPnl = nav - this.dayOpening;
    const drawdown = this.highWaterMark > 0 ? ((this.highWaterMark - nav) / this.highWaterMark) * 100 : 0;
    return {
      netLiquidation: nav,
      snapshot: {
        v: 1,
        account: this.account,
        currency: 'USD',
        netLiquidation: nav.toFixed(2),
        cash: figures.totalCashValue.toFixed(2),
        realizedPnl: figures.realizedPnl.toFixed(2),
        unrealizedPnl: figures.unrealizedPnl.toFixed(2),
        dailyPnl: dailyPnl.toFixed(2),
        dailyReturnPct: (this.dayOpening > 0 ? (dailyPnl / this.dayOpening) * 100 : 0).toFixed(6),
        highWaterMark: this.highWaterMark.toFixed(2),
        drawdownPct: drawdown.toFixed(6),
        ts: new Date(time).toISOString(),
      },
    };
  }
}
