/** `account_snapshots` (the account values execution records) and `cash_baselines` (the cash check's). */
import { accountSnapshotToRow, type Database, type Kysely, type NewAccountSnapshot } from '@ibstack/db';

import type { CashBaseline } from '../domain/cash';

export class AccountRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async recordAccountSnapshot(snapshot: NewAccountSnapshot): Promise<void> {
    await this.db.insertInto('account_snapshots').values(accountSnapshotToRow(snapshot)).execute();
  }

  /** NAV of the first snapshot at or after `dayStart` (the day's opening NAV), and the high-water mark. */
  async accountHistory(
    account: string,
    dayStart: Date,
  ): Promise<{ dayOpening: string | null; highWaterMark: string | null }> {
    const opening = await this.db
      .selectFrom('account_snapshots')
      .select('net_liquidation')
      .where('account', '=', account)
      .where('ts', '>=', dayStart)
      .orderBy('ts')
      .limit(1)
      .executeTakeFirst();
    const high = await this.db
      .selectFrom('account_snapshots')
      .select((eb) => eb.fn.max('high_water_mark').as('hwm'))
      .where('account', '=', account)
      .executeTakeFirst();
    return {
      dayOpening: opening?.net_liquidation ?? null,
      highWaterMark: (high?.hwm as string | null | undefined) ?? null,
    };
  }

  async cashBaselines(): Promise<CashBaseline[]> {
    const rows = await this.db.selectFrom('cash_baselines').selectAll().execute();
    return rows.map((row) => ({
      account: row.account,
      currency: row.currency,
      brokerCash: String(row.broker_cash),
      executionsEffect: String(row.executions_effect),
      recordedAt: row.recorded_at,
    }));
  }

  /** Replaces the baselines of the accounts given (every currency of each), in one transaction. */
  async recordCashBaselines(rows: readonly CashBaseline[], reason: string, at: Date): Promise<void> {
    const accounts = [...new Set(rows.map((row) => row.account))];
    if (accounts.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('cash_baselines').where('account', 'in', accounts).execute();
      await tx
        .insertInto('cash_baselines')
        .values(
          rows.map((row) => ({
            account: row.account,
            currency: row.currency,
            broker_cash: row.brokerCash,
            executions_effect: row.executionsEffect,
            reason,
            recorded_at: at,
          })),
        )
        .execute();
    });
  }
}
