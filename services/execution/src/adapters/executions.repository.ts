/**
 * `executions` and `commission_reports`. A fill is stored once (by exec id) with its position update in
 * the same transaction; a commission report joins its execution whenever the two arrive.
 */
import { type OrderSide, parseExecId } from '@ibstack/contracts';
import { type Database, type Kysely, sql } from '@ibstack/db';

import type { CashAmount, ExecutionTotals } from '../domain/cash';
import type { PositionsRepository } from './positions.repository';

export interface StoredExecution {
  execId: string;
  orderId: number | null;
  brokerOrderId: number;
  permId: number;
  intentId: string | null;
  account: string;
  instrument: string;
  side: OrderSide;
  quantity: string;
  price: string;
  cumulativeQuantity: string | null;
  averagePrice: string | null;
  executedAt: Date;
  /** How a fill IB no longer lists was rebuilt (`completed_order/<price source>`); absent for a reported one. */
  reconstructedFrom?: string;
}

export class ExecutionsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly positions: PositionsRepository,
  ) {}

  /**
   * Stores an execution once (by exec id) and moves the position in the same transaction. A correction
   * (same exec-id base, higher revision) supersedes the earlier row and the position is rebuilt from the
   * executions that still count. Returns whether this call stored it.
   */
  async recordExecution(execution: StoredExecution): Promise<{ inserted: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const commission = await trx
        .selectFrom('commission_reports')
        .selectAll()
        .where('exec_id', '=', execution.execId)
        .executeTakeFirst();
      const inserted = await trx
        .insertInto('executions')
        .values({
          exec_id: execution.execId,
          order_id: execution.orderId,
          broker_order_id: execution.brokerOrderId,
          perm_id: execution.permId,
          intent_id: execution.intentId,
          account: execution.account,
          instrument: execution.instrument,
          side: execution.side,
          quantity: execution.quantity,
          price: execution.price,
          cumulative_quantity: execution.cumulativeQuantity,
          average_price: execution.averagePrice,
          executed_at: execution.executedAt,
          reconstructed_from: execution.reconstructedFrom ?? null,
          commission: commission?.commission ?? null,
          commission_currency: commission?.currency ?? null,
          realized_pnl: commission?.realized_pnl ?? null,
        })
        .onConflict((conflict) => conflict.column('exec_id').doNothing())
        .returning('exec_id')
        .executeTakeFirst();
      if (!inserted) return { inserted: false };

      // A correction keeps everything up to the last dot and raises the revision. Within such a group only
      // the highest revision counts, whichever order they arrive in.
      const { base } = parseExecId(execution.execId);
      const group = await trx
        .selectFrom('executions')
        .select(['exec_id', 'superseded_by'])
        .where(sql<boolean>`starts_with(exec_id, ${`${base}.`})`)
        .forUpdate()
        .execute();
      if (group.length === 1) {
        await this.positions.move(trx, execution);
      } else {
        const latest = group.reduce((best, row) =>
          parseExecId(row.exec_id).revision > parseExecId(best.exec_id).revision ? row : best,
        ).exec_id;
        await trx
          .updateTable('executions')
          .set({ superseded_by: latest })
          .where(sql<boolean>`starts_with(exec_id, ${`${base}.`})`)
          .where('exec_id', '!=', latest)
          .execute();
        await trx
          .updateTable('executions')
          .set({ superseded_by: null })
          .where('exec_id', '=', latest)
          .execute();
        await this.positions.rebuild(trx, execution.account, execution.instrument);
      }
      return { inserted: true };
    });
  }

  /** Joins a commission report to its execution (now or when the execution arrives later). */
  async recordCommission(report: {
    execId: string;
    commission: string;
    currency: string;
    realizedPnl: string | null;
  }): Promise<boolean> {
    // One statement: the report is kept (for an execution that arrives later) and joined to its execution
    // if that is already stored.
    const updated = await this.db
      .with('report', (db) =>
        db
          .insertInto('commission_reports')
          .values({
            exec_id: report.execId,
            commission: report.commission,
            currency: report.currency,
            realized_pnl: report.realizedPnl,
          })
          .onConflict((conflict) =>
            conflict.column('exec_id').doUpdateSet({
              commission: report.commission,
              currency: report.currency,
              realized_pnl: report.realizedPnl,
            }),
          )
          .returning('exec_id'),
      )
      .updateTable('executions')
      .set({
        commission: report.commission,
        commission_currency: report.currency,
        realized_pnl: report.realizedPnl,
      })
      .where('exec_id', '=', report.execId)
      .returning('executions.exec_id')
      .executeTakeFirst();
    return updated !== undefined;
  }

  async executionExists(execId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('executions')
      .select('exec_id')
      .where('exec_id', '=', execId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Quantity filled for an order according to the stored executions that still count. */
  async executedQuantity(orderId: number): Promise<string> {
    const row = await this.db
      .selectFrom('executions')
      .select((eb) => eb.fn.sum<string>('quantity').as('total'))
      .where('order_id', '=', orderId)
      .where('superseded_by', 'is', null)
      .executeTakeFirst();
    return row?.total ?? '0';
  }

  /** Quantity and value (Σ quantity × price) of an order's fills that count. */
  async executedTotals(orderId: number): Promise<{ quantity: string; value: string }> {
    const row = await this.db
      .selectFrom('executions')
      .select([
        sql<string>`coalesce(sum(quantity), 0)::text`.as('quantity'),
        sql<string>`coalesce(sum(quantity * price), 0)::text`.as('value'),
      ])
      .where('order_id', '=', orderId)
      .where('superseded_by', 'is', null)
      .executeTakeFirst();
    return { quantity: row?.quantity ?? '0', value: row?.value ?? '0' };
  }

  /** Every stored exec id in the window, corrected ones included (the broker may still list them). */
  async executionIdsSince(since: Date): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('executions')
      .select('exec_id')
      .where('executed_at', '>=', since)
      .execute();
    return new Set(rows.map((row) => row.exec_id));
  }

  async executionsSince(since: Date): Promise<Array<{ execId: string; instrument: string; time: number }>> {
    const rows = await this.db
      .selectFrom('executions')
      .select(['exec_id', 'instrument', 'executed_at'])
      .where('executed_at', '>=', since)
      .where('superseded_by', 'is', null)
      .execute();
    return rows.map((row) => ({
      execId: row.exec_id,
      instrument: row.instrument,
      time: row.executed_at.getTime(),
    }));
  }

  /** Rebuilt fills (past IB's execution cut-off) not reported by a reconciliation yet. */
  async unreportedReconstructions(): Promise<
    Array<{
      execId: string;
      instrument: string;
      side: string;
      quantity: string;
      price: string;
      brokerOrderId: number;
      permId: string;
      intentId: string | null;
      reconstructedFrom: string;
    }>
  > {
    const rows = await this.db
      .selectFrom('executions')
      .select([
        'exec_id',
        'instrument',
        'side',
        'quantity',
        'price',
        'broker_order_id',
        sql<string>`perm_id::text`.as('perm_id'),
        'intent_id',
        'reconstructed_from',
      ])
      .where('reconstructed_from', 'is not', null)
      .where('flagged_at', 'is', null)
      .orderBy('executed_at')
      .execute();
    return rows.map((row) => ({
      execId: row.exec_id,
      instrument: row.instrument,
      side: row.side,
      quantity: row.quantity,
      price: row.price,
      brokerOrderId: row.broker_order_id,
      permId: row.perm_id,
      intentId: row.intent_id,
      reconstructedFrom: row.reconstructed_from ?? '',
    }));
  }

  /**
   * Totals of every execution we hold that still counts (not superseded by a correction), for the cash
   * they moved: per account, instrument and side, and commissions per account and currency; and the
   * accounts with a fill received since `commissionSince` whose commission has not arrived yet.
   */
  async executionCashTotals(commissionSince: Date): Promise<{
    trades: ExecutionTotals[];
    commissions: CashAmount[];
    awaitingCommission: string[];
    /** Per account, when the latest fill rebuilt from what IB still reports (approximate) was stored. */
    reconstructedAt: Map<string, Date>;
  }> {
    const [trades, commissions, awaiting, reconstructed] = await Promise.all([
      this.db
        .selectFrom('executions')
        .select((eb) => [
          'account',
          'instrument',
          'side',
          eb.fn.sum<string>('quantity').as('quantity'),
          sql<string>`sum(quantity * price)`.as('notional'),
        ])
        .where('superseded_by', 'is', null)
        .groupBy(['account', 'instrument', 'side'])
        .execute(),
      this.db
        .selectFrom('executions')
        .select((eb) => [
          'account',
          sql<string>`coalesce(commission_currency, 'USD')`.as('currency'),
          eb.fn.sum<string>('commission').as('amount'),
        ])
        .where('superseded_by', 'is', null)
        .where('commission', 'is not', null)
        .groupBy(['account', sql`coalesce(commission_currency, 'USD')`])
        .execute(),
      this.db
        .selectFrom('executions')
        .select('account')
        .distinct()
        .where('superseded_by', 'is', null)
        .where('commission', 'is', null)
        .where('received_at', '>', commissionSince)
        .execute(),
      this.db
        .selectFrom('executions')
        .select((eb) => ['account', eb.fn.max('received_at').as('latest')])
        .where('reconstructed_from', 'is not', null)
        .groupBy('account')
        .execute(),
    ]);
    return {
      trades: trades.map((row) => ({
        account: row.account,
        instrument: row.instrument,
        side: row.side,
        quantity: String(row.quantity),
        notional: String(row.notional),
      })),
      commissions: commissions.map((row) => ({
        account: row.account,
        currency: row.currency,
        amount: String(row.amount),
      })),
      awaitingCommission: awaiting.map((row) => row.account),
      reconstructedAt: new Map(reconstructed.map((row) => [row.account, new Date(row.latest)])),
    };
  }
}
