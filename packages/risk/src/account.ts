/**
 * Account figures derived from the broker's account values: daily P&L and return against the day's
 * opening NAV, high-water mark and drawdown. Pure and exact. The one formula behind the account snapshots
 * the loss and drawdown rules read: execution records them from the broker's values, the backtest from its
 * simulated venue's.
 */
import { sessionOf } from '@ibstack/contracts';
import Decimal from 'decimal.js';

export interface AccountFigures {
  netLiquidation: string;
  dailyPnl: string;
  dailyReturnPct: string;
  highWaterMark: string;
  drawdownPct: string;
}

export function accountFigures(input: {
  netLiquidation: string;
  /** NAV at the start of the trading day (the first snapshot of the day); null before there is one. */
  dayOpeningNetLiquidation: string | null;
  /** Highest NAV seen before this snapshot; null if none. */
  previousHighWaterMark: string | null;
}): AccountFigures {
  const nav = new Decimal(input.netLiquidation);
  const opening = new Decimal(input.dayOpeningNetLiquidation ?? input.netLiquidation);
  const dailyPnl = nav.minus(opening);
  const dailyReturnPct = opening.isZero() ? new Decimal(0) : dailyPnl.div(opening).times(100);
  const highWaterMark = Decimal.max(nav, input.previousHighWaterMark ?? nav);
  const drawdownPct = highWaterMark.isZero()
    ? new Decimal(0)
    : highWaterMark.minus(nav).div(highWaterMark).times(100);
  return {
    netLiquidation: nav.toFixed(),
    dailyPnl: dailyPnl.toFixed(),
    dailyReturnPct: dailyReturnPct.toDecimalPlaces(6).toFixed(),
    highWaterMark: highWaterMark.toFixed(),
    drawdownPct: drawdownPct.toDecimalPlaces(6).toFixed(),
  };
}

/**
 * Start of the trading day an instant belongs to. Forex trades Sunday 17:00 to Friday 17:00 New York,
 * and IB rolls its day at 17:00 New York, so a "day" runs from 17:00 to 17:00 there.
 */
export function tradingDayStart(epochMs: number): number {
  return sessionOf(epochMs, 'America/New_York', 17).startMs;
}
