/**
 * What reconciliation reads of our side in one snapshot, the trades it reports once (`flagged_at`), and
 * `reconciliation_runs`.
 */
import type { ReconciliationResult } from '@ibstack/contracts';
import { type Database, type Kysely, type OrderRow, sql } from '@ibstack/db';

import type { CashBaseline } from '../domain/cash';
import { ExecutionsRepository } from './executions.repository';
import { OrdersRepository } from './orders.repository';
import { PositionsRepository } from './positions.repository';

export class ReconciliationRepository {
  /** @param clock epoch ms, for the `updated_at` we write. @default Date.now */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Our side of a reconciliation at one point in time: positions, open orders and the executions since
   * `since`, read in one repeatable-read transaction, so a fill stored between two reads cannot make them
   * disagree with each other.
   */
  async reconciliationSnapshot(since: Date): Promise<{
    positions: Array<{ account: string; instrument: string; quantity: string; average_cost: string }>;
    openOrders: OrderRow[];
    overfilled: Array<OrderRow & { executed: string }>;
    executions: Array<{ execId: string; instrument: string; time: number }>;
    knownExecIds: Set<string>;
  }> {
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const orders = new OrdersRepository(trx, this.clock);
        const stored = new ExecutionsRepository(trx, new PositionsRepository(trx, this.clock));
        const positions = await trx
          .selectFrom('positions')
          .select(['account', 'instrument', 'quantity', 'average_cost'])
          .execute();
        const openOrders = await orders.openOrders();
        const executions = await stored.executionsSince(since);
        const knownExecIds = await stored.executionIdsSince(since);
        // Orders whose fills exceed their size (the broker overfilled), not reported yet.
        const overfilled = await trx
          .selectFrom('orders as o')
          .innerJoin('executions as x', 'x.order_id', 'o.id')
          .selectAll('o')
          .select(sql<string>`sum(x.quantity)::text`.as('executed'))
          .where('x.superseded_by', 'is', null)
          .where('o.flagged_at', 'is', null)
          .groupBy('o.id')
          .having(sql<boolean>`sum(x.quantity) > o.quantity`)
          .execute();
        return { positions, openOrders, executions, knownExecIds, overfilled };
      });
  }

  /**
   * @param cash the broker's cash and our executions' cash effect per account and currency at the compared
   * point (the cash check's figures, for the operator); null when the run could not compare.
   */
  async recordReconciliation(
    result: ReconciliationResult,
    error?: string,
    cash?: readonly CashBaseline[],
  ): Promise<void> {
    await this.db
      .insertInto('reconciliation_runs')
      .values({
        error: error ?? null,
        cash: cash ? JSON.stringify(cash) : null,
        run_id: result.runId,
        trigger: result.trigger,
        ok: result.ok,
        mismatches: JSON.stringify(result.mismatches),
        positions_checked: result.positionsChecked,
        open_orders_checked: result.openOrdersChecked,
        executions_checked: result.executionsChecked,
        started_at: result.startedAt,
        finished_at: result.finishedAt,
      })
      .onConflict((conflict) => conflict.column('run_id').doNothing())
      .execute();
  }

  /**
   * Adopted orders (duplicates of ours among them), executions no intent explains and changes of our
   * orders made at the broker that no reconciliation has reported yet.
   */
  async unexplainedTrades(): Promise<{
    orders: Array<
      OrderRow & { duplicate_intent_id: string | null; duplicate_broker_order_id: number | null }
    >;
    executions: Array<{ execId: string; instrument: string; side: string; quantity: string; price: string }>;
    amendments: Array<{
      id: number;
      intentId: string | null;
      brokerOrderId: number | null;
      instrument: string;
      quantity: string;
      limitPrice: string | null;
      stopPrice: string | null;
      previousQuantity: string;
      previousLimitPrice: string | null;
      previousStopPrice: string | null;
    }>;
  }> {
    const orders = await this.db
      .selectFrom('orders')
      .leftJoin('orders as original', 'original.id', 'orders.duplicate_of')
      .selectAll('orders')
      .select([
        'original.intent_id as duplicate_intent_id',
        'original.broker_order_id as duplicate_broker_order_id',
      ])
      .where('orders.adopted', '=', true)
      .where('orders.flagged_at', 'is', null)
      .execute();
    const amendments = await this.db
      .selectFrom('order_amendments as a')
      .innerJoin('orders as o', 'o.id', 'a.order_id')
      .select([
        'a.id',
        'o.intent_id as intentId',
        'o.broker_order_id as brokerOrderId',
        'o.instrument',
        'a.quantity',
        'a.limit_price as limitPrice',
        'a.stop_price as stopPrice',
        'a.previous_quantity as previousQuantity',
        'a.previous_limit_price as previousLimitPrice',
        'a.previous_stop_price as previousStopPrice',
      ])
      .where('a.origin', '=', 'broker')
      .where('a.flagged_at', 'is', null)
      .orderBy('a.id')
      .execute();
    const executions = await this.db
      .selectFrom('executions as x')
      .leftJoin('orders as o', 'o.id', 'x.order_id')
      .select(['x.exec_id as execId', 'x.instrument', 'x.side', 'x.quantity', 'x.price'])
      .where('x.flagged_at', 'is', null)
      .where('x.superseded_by', 'is', null)
      .where((eb) => eb.or([eb('o.id', 'is', null), eb('o.intent_id', 'is', null)]))
      .execute();
    return { orders, executions, amendments: amendments.map((a) => ({ ...a, id: Number(a.id) })) };
  }

  /** Marks unexplained trades as reported, so one manual trade halts trading once, not at every run. */
  async flagUnexplained(
    orderIds: readonly number[],
    execIds: readonly string[],
    at: Date,
    amendmentIds: readonly number[] = [],
  ): Promise<void> {
    if (amendmentIds.length > 0)
      await this.db
        .updateTable('order_amendments')
        .set({ flagged_at: at })
        .where('id', 'in', amendmentIds)
        .execute();
    if (orderIds.length > 0)
      await this.db.updateTable('orders').set({ flagged_at: at }).where('id', 'in', orderIds).execute();
    if (execIds.length > 0)
      await this.db
        .updateTable('executions')
        .set({ flagged_at: at })
        .where('exec_id', 'in', execIds)
        .execute();
  }
}
