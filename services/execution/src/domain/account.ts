/**
 * The trading day and the broker's execution window. The account figures (daily P&L, high-water mark,
 * drawdown) are `@ibstack/risk`'s, one formula with the backtest's.
 */
import { sessionOf } from '@ibstack/contracts';
import { tradingDayStart } from '@ibstack/risk';

export { accountFigures, type AccountFigures, tradingDayStart } from '@ibstack/risk';

/**
 * Start of the window IB still reports executions for at `epochMs`. IB documents that `reqExecutions`
 * delivers only the executions since midnight, the gateway's local midnight (TWS can show up to 7 days
 * through its trade-log setting; IB Gateway, which we run, cannot), and we ask from the trading day's
 * start (17:00 New York): the later of the two. Executions before it are no longer the broker's to
 * confirm or deny.
 */
export function brokerExecutionsSince(epochMs: number, gatewayTimeZone: string): number {
  return Math.max(tradingDayStart(epochMs), sessionOf(epochMs, gatewayTimeZone, 0).startMs);
}
