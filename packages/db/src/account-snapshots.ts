import type { AccountSnapshotRow } from './schema';

/** What `account_snapshots` stores of an account snapshot (the `AccountSnapshot` message of packages/contracts, without `v`). */
export interface AccountSnapshotRecord {
  account: string;
  currency: string;
  netLiquidation: string;
  cash: string;
  realizedPnl: string;
  unrealizedPnl: string;
  dailyPnl: string;
  dailyReturnPct: string;
  highWaterMark: string;
  drawdownPct: string;
  /** ISO 8601. */
  ts: string;
}

/** A stored snapshot row in the message's names: the one mapping every reader uses. */
export function accountSnapshotFromRow(row: AccountSnapshotRow): AccountSnapshotRecord {
  return {
    account: row.account,
    currency: row.currency,
    netLiquidation: row.net_liquidation,
    cash: row.cash,
    realizedPnl: row.realized_pnl,
    unrealizedPnl: row.unrealized_pnl,
    dailyPnl: row.daily_pnl,
    dailyReturnPct: row.daily_return_pct,
    highWaterMark: row.high_water_mark,
    drawdownPct: row.drawdown_pct,
    ts: row.ts.toISOString(),
  };
}
