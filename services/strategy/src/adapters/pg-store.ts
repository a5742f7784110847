import type { AccountSnapshot, AuditEntry, Bar, OrderIntent, Timeframe } from '@ibstack/contracts';
import { accountSnapshotFromRow, type Database, insertAuditEntries, type Kysely, sql } from '@ibstack/db';

import type {
  BarCommit,
  PendingIntentRow,
  SleeveFillRow,
  StoredIntent,
  StoredProgress,
  StrategyStore,
} from '../ports';

export type {
  BarCommit,
  PendingIntentRow,
  ProgressRow,
  SleeveFillRow,
  StoredIntent,
  StoredProgress,
} from '../ports';

const iso = (value: Date) => value.toISOString();

/**
 * Every query the strategy runs. Numeric columns come back as strings and stay strings; times are
 * `timestamptz` and cross this boundary as ISO strings.
 */
export class PgStrategyStore implements StrategyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async ping(): Promise<boolean> {
    await sql`select 1`.execute(this.db);
    return true;
  }

  /** Last processed bar per (sleeve, instrument, timeframe). */
  async loadProgress(sleeves: readonly string[]): Promise<StoredProgress[]> {
    if (sleeves.length === 0) return [];
    const rows = await this.db
      .selectFrom('strategy_progress')
      .selectAll()
      .where('sleeve', 'in', sleeves)
      .execute();
    return rows.map((row) => ({
      sleeve: row.sleeve,
      instrument: row.instrument,
      timeframe: row.timeframe,
      lastBarMs: row.last_bar_ts.getTime(),
    }));
  }

  /** The last `limit` bars at or before `untilMs` (all if null), oldest first. */
  async loadBars(
    instrument: string,
    timeframe: Timeframe,
    untilMs: number | null,
    limit: number,
  ): Promise<Bar[]> {
    let query = this.db
      .selectFrom('bars')
      .selectAll()
      .where('instrument', '=', instrument)
      .where('timeframe', '=', timeframe);
    if (untilMs !== null) query = query.where('ts', '<=', new Date(untilMs));
    const rows = await query.orderBy('ts', 'desc').limit(limit).execute();
    return rows.reverse().map((row) => ({
      v: 1 as const,
      instrument: row.instrument,
      timeframe: row.timeframe as Timeframe,
      ts: iso(row.ts),
      open: row.open,
      high: row.high,
      low: row.low,
      close: row.close,
      volume: row.volume,
      source: row.source === 'live' ? 'live' : 'backfill',
      receivedAt: iso(row.updated_at),
    }));
  }

  /**
   * Stores a bar's intents (an intent already stored is left as it was), audit entries and progress in
   * one transaction: one statement, so one round trip. Progress only moves forward.
   */
  async commitBar(commit: BarCommit): Promise<void> {
    // Each write becomes a data-modifying CTE of one statement: they all run, to completion, in its one
    // transaction, whether or not the final select reads them. The tables differ, so none sees another's rows.
    const writes: Array<ReturnType<typeof sql.raw>> = [];
    const write = (query: { toOperationNode(): unknown }) =>
      sql`${sql.raw(`write_${writes.length}`)} as (${query})`;
    if (commit.intents.length > 0) {
      writes.push(
        write(
          this.db
            .insertInto('order_intents')
            .values(
              commit.intents.map(({ intent, status, riskReason }) => ({
                intent_id: intent.intentId,
                sleeve: intent.sleeve,
                instrument: intent.instrument,
                side: intent.side,
                quantity: intent.quantity,
                order_type: intent.orderType,
                limit_price: intent.limitPrice ?? null,
                stop_price: intent.stopPrice ?? null,
                time_in_force: intent.timeInForce,
                bar_ts: intent.barTs,
                timeframe: intent.timeframe,
                sequence: intent.sequence,
                reference_price: intent.referencePrice,
                status,
                risk_reason: riskReason,
                reason: intent.reason ?? null,
                created_at: intent.createdAt,
              })),
            )
            .onConflict((oc) => oc.column('intent_id').doNothing()),
        ),
      );
    }
    if (commit.audits.length > 0) writes.push(write(insertAuditEntries(this.db, commit.audits)));
    if (commit.progress.length > 0) {
      writes.push(
        write(
          this.db
            .insertInto('strategy_progress')
            .values(
              commit.progress.map((p) => ({
                sleeve: p.sleeve,
                instrument: p.instrument,
                timeframe: p.timeframe,
                last_bar_ts: p.barTs,
              })),
            )
            .onConflict((oc) =>
              oc
                .columns(['sleeve', 'instrument', 'timeframe'])
                .doUpdateSet({ last_bar_ts: (eb) => eb.ref('excluded.last_bar_ts'), updated_at: sql`now()` })
                .where('strategy_progress.last_bar_ts', '<', (eb) => eb.ref('excluded.last_bar_ts')),
            ),
        ),
      );
    }
    if (writes.length === 0) return;
    await sql`with ${sql.join(writes)} select 1`.execute(this.db);
  }

  async markPublished(intentIds: readonly string[], atMs: number): Promise<void> {
    if (intentIds.length === 0) return;
    await this.db
      .updateTable('order_intents')
      .set({ published_at: new Date(atMs) })
      .where('intent_id', 'in', intentIds)
      .where('published_at', 'is', null)
      .execute();
  }

  /** Accepted intents never marked as published: a crash hit between commit and publish. */
  async unpublishedIntents(sleeves: readonly string[]): Promise<StoredIntent[]> {
    if (sleeves.length === 0) return [];
    const rows = await this.db
      .selectFrom('order_intents')
      .selectAll()
      .where('status', '=', 'accepted')
      .where('published_at', 'is', null)
      .where('sleeve', 'in', sleeves)
      .orderBy('created_at')
      .orderBy('sequence')
      .execute();
    return rows.map((row) => ({
      createdAtMs: row.created_at.getTime(),
      intent: {
        v: 1,
        intentId: row.intent_id as OrderIntent['intentId'],
        sleeve: row.sleeve,
        instrument: row.instrument,
        side: row.side,
        quantity: row.quantity,
        orderType: row.order_type,
        ...(row.limit_price !== null ? { limitPrice: row.limit_price } : {}),
        ...(row.stop_price !== null ? { stopPrice: row.stop_price } : {}),
        timeInForce: row.time_in_force,
        barTs: iso(row.bar_ts),
        timeframe: row.timeframe,
        sequence: row.sequence,
        referencePrice: row.reference_price,
        ...(row.reason !== null ? { reason: row.reason } : {}),
        createdAt: iso(row.created_at),
      },
    }));
  }

  /** Marks accepted-but-unpublished intents as too old to send, with their audit entries. */
  async expireIntents(intentIds: readonly string[], audits: readonly AuditEntry[]): Promise<void> {
    if (intentIds.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('order_intents')
        .set({ status: 'expired' })
        .where('intent_id', 'in', intentIds)
        .where('status', '=', 'accepted')
        .where('published_at', 'is', null)
        .execute();
      await insertAudits(trx, audits);
    });
  }

  /** Fills of the sleeves' intents, corrected rows left out. */
  async loadSleeveFills(sleeves: readonly string[]): Promise<SleeveFillRow[]> {
    if (sleeves.length === 0) return [];
    const rows = await this.db
      .selectFrom('executions as e')
      .innerJoin('order_intents as i', 'i.intent_id', 'e.intent_id')
      .select([
        'e.exec_id',
        'e.intent_id',
        'i.sleeve',
        'e.instrument',
        'e.side',
        'e.quantity',
        'e.price',
        'e.commission',
        'e.commission_currency',
      ])
      .where('e.superseded_by', 'is', null)
      .where('i.sleeve', 'in', sleeves)
      .orderBy('e.executed_at')
      .execute();
    return rows.map((row) => ({
      execId: row.exec_id,
      intentId: row.intent_id!,
      sleeve: row.sleeve,
      instrument: row.instrument,
      side: row.side,
      quantity: row.quantity,
      price: row.price,
      commission: row.commission,
      commissionCurrency: row.commission_currency,
    }));
  }

  /** Accepted intents since `sinceMs` with their order's state and what has executed, for in-flight tracking. */
  async loadRecentAcceptedIntents(sleeves: readonly string[], sinceMs: number): Promise<PendingIntentRow[]> {
    if (sleeves.length === 0) return [];
    const rows = await this.db
      .selectFrom('order_intents as i')
      .leftJoin('orders as o', 'o.intent_id', 'i.intent_id')
      .select((eb) => [
        'i.intent_id',
        'i.sleeve',
        'i.instrument',
        'i.side',
        'i.quantity',
        'i.created_at',
        'o.status as order_status',
        'o.filled_quantity as order_filled',
        eb
          .selectFrom('executions as e')
          .select(sql<string>`coalesce(sum(e.quantity), 0)::text`.as('executed'))
          .whereRef('e.intent_id', '=', 'i.intent_id')
          .where('e.superseded_by', 'is', null)
          .as('executed'),
      ])
      .where('i.status', '=', 'accepted')
      .where('i.sleeve', 'in', sleeves)
      .where('i.created_at', '>=', new Date(sinceMs))
      .orderBy('i.created_at')
      .execute();
    return rows.map((row) => ({
      intentId: row.intent_id,
      sleeve: row.sleeve,
      instrument: row.instrument,
      side: row.side,
      quantity: row.quantity,
      createdAtMs: row.created_at.getTime(),
      orderStatus: row.order_status,
      orderFilled: row.order_filled,
      executed: row.executed ?? '0',
    }));
  }

  async intentSleeve(intentId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('order_intents')
      .select('sleeve')
      .where('intent_id', '=', intentId)
      .executeTakeFirst();
    return row?.sleeve ?? null;
  }

  async latestAccountSnapshot(): Promise<AccountSnapshot | null> {
    const row = await this.db
      .selectFrom('account_snapshots')
      .selectAll()
      .orderBy('ts', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { v: 1, ...accountSnapshotFromRow(row) } : null;
  }

  async insertAudit(entry: AuditEntry): Promise<void> {
    await insertAudits(this.db, [entry]);
  }
}

async function insertAudits(db: Kysely<Database>, audits: readonly AuditEntry[]): Promise<void> {
  if (audits.length === 0) return;
  await insertAuditEntries(db, audits).execute();
}
