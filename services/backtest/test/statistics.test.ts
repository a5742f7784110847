import { computeStatistics } from '../src/statistics';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');

describe('computeStatistics', () => {
  it('return, drawdown from the running peak, Sharpe of daily returns, win rate, exposure, commissions', () => {
    const times = [T0 + 1000, T0 + DAY + 1000, T0 + 2 * DAY + 1000, T0 + 3 * DAY + 1000];
    const equity = [1010, 1100, 990, 1045];
    const stats = computeStatistics({
      initialEquityUsd: 1000,
      times,
      equity,
      trades: [
        { realizedPnlUsd: undefined, commissionUsd: 2 },
        { realizedPnlUsd: 15.5, commissionUsd: 2 },
        { realizedPnlUsd: -4, commissionUsd: 2.25 },
      ],
      inMarketSteps: 3,
      totalSteps: 4,
    });
    expect(stats.totalReturnPct).toBeCloseTo(4.5, 10);
    expect(stats.maxDrawdownPct).toBeCloseTo(10, 10); // 1100 → 990
    const returns = [0.01, 1100 / 1010 - 1, 990 / 1100 - 1, 1045 / 990 - 1];
    const mean = returns.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / 3);
    expect(stats.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(252), 10);
    expect(stats.winRatePct).toBe(50);
    expect(stats.exposurePct).toBe(75);
    expect(stats.commissionsUsd).toBe(6.25);
    expect(stats.closingFills).toBe(2);
  });

  it('says n/a rather than inventing a Sharpe ratio or a win rate', () => {
    const stats = computeStatistics({
      initialEquityUsd: 1000,
      times: [T0, T0 + 60_000],
      equity: [1000, 1000],
      trades: [],
      inMarketSteps: 0,
      totalSteps: 2,
    });
    expect(stats.sharpe).toBeNull();
    expect(stats.winRatePct).toBeNull();
    expect(stats.maxDrawdownPct).toBe(0);
    expect(stats.totalReturnPct).toBe(0);
  });
});
