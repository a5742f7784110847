/** A backtest's figures, from its equity curve and trades. Pure. */
import { DAY_MS } from '@ibstack/contracts';

export interface Statistics {
  initialEquityUsd: number;
  finalEquityUsd: number;
  /** (final − initial) / initial, in percent. */
  totalReturnPct: number;
  /** Largest fall from a running peak of the equity curve, in percent of that peak. */
  maxDrawdownPct: number;
  /**
   * Annualised Sharpe ratio of daily (UTC day) returns, risk-free rate 0, √252; null with fewer than two
   * daily returns or none that differ.
   */
  sharpe: number | null;
  /** Share of the fills that closed something and made money (net of commission); null when none closed. */
  winRatePct: number | null;
  /** Share of the replayed bar times with a position open, in percent. */
  exposurePct: number;
  commissionsUsd: number;
  /** Executions. */
  fills: number;
  /** Executions that closed (part of) a position: the ones win rate counts. */
  closingFills: number;
}

const TRADING_DAYS_PER_YEAR = 252;

export function computeStatistics(input: {
  initialEquityUsd: number;
  /** Equity after each replayed bar time, with its time (epoch ms). */
  times: ArrayLike<number>;
  equity: ArrayLike<number>;
  trades: ReadonlyArray<{ realizedPnlUsd: number | undefined; commissionUsd: number }>;
  /** Bar times with a position open, and all bar times. */
  inMarketSteps: number;
  totalSteps: number;
}): Statistics {
  const { initialEquityUsd, times, equity, trades } = input;
  const finalEquityUsd = equity.length > 0 ? equity[equity.length - 1]! : initialEquityUsd;

  let peak = initialEquityUsd;
  let maxDrawdown = 0;
  for (let index = 0; index < equity.length; index++) {
    const value = equity[index]!;
    if (value > peak) peak = value;
    else if (peak > 0) maxDrawdown = Math.max(maxDrawdown, (peak - value) / peak);
  }

  // Equity at the end of each UTC day, the day before the first bar starting at the initial equity.
  const dayCloses: number[] = [initialEquityUsd];
  for (let index = 0; index < equity.length; index++) {
    const lastOfDay =
      index === equity.length - 1 ||
      Math.floor(times[index + 1]! / DAY_MS) !== Math.floor(times[index]! / DAY_MS);
    if (lastOfDay) dayCloses.push(equity[index]!);
  }
  const returns: number[] = [];
  for (let index = 1; index < dayCloses.length; index++) {
    const previous = dayCloses[index - 1]!;
    if (previous > 0) returns.push(dayCloses[index]! / previous - 1);
  }
  let sharpe: number | null = null;
  if (returns.length >= 2) {
    const mean = returns.reduce((sum, value) => sum + value, 0) / returns.length;
    const variance = returns.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (returns.length - 1);
    const deviation = Math.sqrt(variance);
    if (deviation > 0) sharpe = (mean / deviation) * Math.sqrt(TRADING_DAYS_PER_YEAR);
  }

  const closing = trades.filter((trade) => trade.realizedPnlUsd !== undefined);
  const wins = closing.filter((trade) => trade.realizedPnlUsd! > 0).length;
  return {
    initialEquityUsd,
    finalEquityUsd,
    totalReturnPct: initialEquityUsd > 0 ? (finalEquityUsd / initialEquityUsd - 1) * 100 : 0,
    maxDrawdownPct: maxDrawdown * 100,
    sharpe,
    winRatePct: closing.length > 0 ? (wins / closing.length) * 100 : null,
    exposurePct: input.totalSteps > 0 ? (input.inMarketSteps / input.totalSteps) * 100 : 0,
    commissionsUsd: Math.round(trades.reduce((sum, trade) => sum + trade.commissionUsd, 0) * 100) / 100,
    fills: trades.length,
    closingFills: closing.length,
  };
}
