/**
 * Read-only queries of the bot beyond the status screen's: account figures per account, today's fills,
 * the equity curve, and the numbers of the daily summary. Money stays in decimal strings.
 */
import { type Database, type Kysely, sql } from '@ibstack/db';

export interface EquityPoint {
  account: string;
  at: Date;
  netLiquidation: string;
}

export class NotifierQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Fills since `since` (and before `until`): how many, realized P&L and commissions (decimal strings). */
  async fillTotals(
    since: Date,
    until?: Date,
  ): Promise<{ fills: number; realizedPnl: string; commissions: string }> {
    const row = await this.db
      .selectFrom('executions')
      .select([
        sql<string>`count(*)`.as('fills'),
        sql<string>`coalesce(sum(realized_pnl), 0)::text`.as('realized'),
        sql<string>`coalesce(sum(commission), 0)::text`.as('commissions'),
      ])
      .where('executed_at', '>=', since)
      .$if(until !== undefined, (query) => query.where('executed_at', '<', until!))
      .where('superseded_by', 'is', null)
      .executeTakeFirstOrThrow();
    return { fills: Number(row.fills), realizedPnl: row.realized, commissions: row.commissions };
  }

  /** Fills from `since` to before `until` per instrument and side. */
  async fillsByInstrument(
    since: Date,
    until: Date,
  ): Promise<
    Array<{ instrument: string; side: string; quantity: string; count: number; commission: string }>
  > {
    const rows = await this.db
      .selectFrom('executions')
      .select([
        'instrument',
        'side',
        sql<string>`sum(quantity)::text`.as('quantity'),
        sql<string>`count(*)`.as('count'),
        sql<string>`coalesce(sum(commission), 0)::text`.as('commission'),
      ])
      .where('executed_at', '>=', since)
      .where('executed_at', '<', until)
      .where('superseded_by', 'is', null)
      .groupBy(['instrument', 'side'])
      .orderBy('instrument')
      .orderBy('side')
      .execute();
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /** NAV of each account at the first snapshot at or after `at`. */
  async netLiquidationAt(at: Date): Promise<Map<string, string>> {
    const rows = await this.db
      .selectFrom('account_snapshots')
      .select(['account', 'net_liquidation'])
      .distinctOn('account')
      .where('ts', '>=', at)
      .orderBy('account')
      .orderBy('ts')
      .execute();
    return new Map(rows.map((row) => [row.account, row.net_liquidation]));
  }

  /**
   * NAV over time since `since`, at most about `points` per account: the last snapshot of each bucket
   * (snapshots come every few seconds; a week of them would be 60,000 points).
   */
  async equityCurve(since: Date, until: Date, points = 400): Promise<EquityPoint[]> {
    const bucketSeconds = Math.max(60, Math.ceil((until.getTime() - since.getTime()) / 1000 / points));
    const rows = await sql<{ account: string; at: Date; net_liquidation: string }>`
      select account, max(ts) as at, (array_agg(net_liquidation order by ts desc))[1] as net_liquidation
      from account_snapshots
      where ts >= ${since} and ts <= ${until}
      group by account, floor(extract(epoch from ts) / ${bucketSeconds})
      order by account, at`.execute(this.db);
    return rows.rows.map((row) => ({
      account: row.account,
      at: new Date(row.at),
      netLiquidation: String(row.net_liquidation),
    }));
  }

  /** Reconciliation runs finished from `since` to before `until`, and how many found mismatches. */
  async reconciliations(since: Date, until: Date): Promise<{ runs: number; mismatching: number }> {
    const row = await this.db
      .selectFrom('reconciliation_runs')
      .select([
        sql<string>`count(*)`.as('runs'),
        sql<string>`count(*) filter (where not ok)`.as('mismatching'),
      ])
      .where('finished_at', '>=', since)
      .where('finished_at', '<', until)
      .executeTakeFirstOrThrow();
    return { runs: Number(row.runs), mismatching: Number(row.mismatching) };
  }

  /** Chats already told they are not served (audited once each), so a restart refuses no chat twice. */
  async refusedChats(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .select(sql<string>`detail->>'chatId'`.as('chat_id'))
      .where('action', '=', 'telegram_refused')
      .execute();
    return rows.map((row) => Number(row.chat_id)).filter(Number.isSafeInteger);
  }
}
