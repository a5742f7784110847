import type { Insertable } from 'kysely';

import type { AccountSnapshotRow, AccountSnapshotsTable } from './schema';

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

/** A snapshot to store: the record's figures, its time as a Date, and the broker's raw account values. */
export interface NewAccountSnapshot extends Omit<AccountSnapshotRecord, 'ts'> {
  ts: Date;
  raw: Record<string, string>;
}

/** The `account_snapshots` row of a snapshot: the one mapping every writer uses (the reverse of `accountSnapshotFromRow`). */
export function accountSnapshotToRow(snapshot: NewAccountSnapshot): Insertable<AccountSnapshotsTable> {
  return {
    account: snapshot.account,
    currency: snapshot.currency,
    ts: snapshot.ts,
    net_liquidation: snapshot.netLiquidation,
    cash: snapshot.cash,
    realized_pnl: snapshot.realizedPnl,
    unrealized_pnl: snapshot.unrealizedPnl,
    daily_pnl: snapshot.dailyPnl,
    daily_return_pct: snapshot.dailyReturnPct,
    high_water_mark: snapshot.highWaterMark,
    drawdown_pct: snapshot.drawdownPct,
    raw: JSON.stringify(snapshot.raw),
  };
}
