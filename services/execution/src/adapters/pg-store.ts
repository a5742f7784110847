/**
 * Execution's Postgres access. Every money write is one transaction: an order row with its first event
 * (behind the fencing check), an execution with its position update, a status change with its event.
 * Order events and fills are written unpublished; the outbox publisher sends them and marks them.
 */
import {
  type AuditEntry,
  type OrderSide,
  type OrderStatus,
  parseExecId,
  type ReconciliationResult,
} from '@ibstack/contracts';
import {
  type Database,
  insertAuditEntries,
  type Kysely,
  type OrderRow,
  sql,
  type Transaction,
} from '@ibstack/db';
import Decimal from 'decimal.js';

import type { CashAmount, CashBaseline, ExecutionTotals } from '../domain/cash';
import { applyFill, averageCost, FLAT, type PositionState } from '../domain/positions';
import type { OrderStateSnapshot } from '../domain/order-state';
import { FencedError } from '../errors';

const FENCE_NAME = 'execution';
export const OPEN_STATUSES: readonly OrderStatus[] = ['pending', 'submitted', 'partially_filled'];

export interface NewOrder {
  intentId: string | null;
  brokerOrderId: number | null;
  permId?: number | null;
  clientId: number;
  account: string | null;
  sleeve: string | null;
  instrument: string;
  side: OrderSide;
  quantity: string;
  orderType: string;
  limitPrice: string | null;
  stopPrice: string | null;
  timeInForce: string;
  status: OrderStatus;
  brokerStatus?: string | null;
  errorCode?: number | null;
  errorText?: string | null;
  adopted?: boolean;
}

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

export function snapshotOf(row: OrderRow): OrderStateSnapshot {
  return {
    status: row.status as OrderStatus,
    brokerStatus: row.broker_status,
    quantity: row.quantity,
    filledQuantity: row.filled_quantity,
    remainingQuantity: row.remaining_quantity,
    averageFillPrice: row.average_fill_price,
    errorCode: row.error_code,
    reason: row.error_text,
  };
}

function eventId(orderId: number, state: OrderStateSnapshot): string {
  return [orderId, state.status, state.brokerStatus ?? '', state.filledQuantity, state.errorCode ?? ''].join(
    ':',
  );
}

export class ExecutionStore {
  /** @param clock epoch ms, for the `updated_at` we write. @default Date.now */
  constructor(
    readonly db: Kysely<Database>,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Takes the fence with an epoch of our own: one more than any epoch before, so a later holder's is
   * always larger, whatever happened to the KV bucket (a lost or recreated `leases` bucket restarts its
   * revisions, which made the lease impossible to take when the fence compared against them), and at
   * least `atLeast` (one more than the last epoch granted on any database: the lease mark).
   */
  async takeFence(holder: string, atLeast = 1): Promise<number> {
    const result = await sql<{ epoch: number }>`
      insert into leader_fence (name, epoch, holder) values (${FENCE_NAME}, ${atLeast}, ${holder})
      on conflict (name) do update set epoch = greatest(leader_fence.epoch + 1, ${atLeast}), holder = excluded.holder, updated_at = now()
      returning epoch`.execute(this.db);
    return Number(result.rows[0]!.epoch);
  }

  /** Whether `epoch` still holds the fence (false once a later holder took it). */
  async fenceHolds(epoch: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('leader_fence')
      .select('epoch')
      .where('name', '=', FENCE_NAME)
      .executeTakeFirst();
    return row !== undefined && Number(row.epoch) === epoch;
  }

  /** The highest broker order id ever used, so ids are never reused across restarts. */
  async maxBrokerOrderId(): Promise<number> {
    const row = await this.db
      .selectFrom('orders')
      .select((eb) => eb.fn.max('broker_order_id').as('max'))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  /**
   * Records an order before it is sent, with its first event, behind the fence — in one statement, so one
   * round trip on the money path. If the intent already has an order (a redelivered intent), returns that
   * one with `created: false`; if a newer epoch holds the fence, throws FencedError.
   */
  async recordOrder(
    order: NewOrder,
    epoch: number,
    now: Date,
  ): Promise<{ order: OrderRow; created: boolean }> {
    const result = await sql<OrderRow>`
      with fence as (
        select epoch from leader_fence where name = ${FENCE_NAME} and epoch = ${epoch} for share
      ), inserted as (
        insert into orders (
          intent_id, broker_order_id, perm_id, client_id, account, sleeve, instrument, side, quantity,
          order_type, limit_price, stop_price, time_in_force, status, broker_status, remaining_quantity,
          error_code, error_text, adopted, leader_epoch, created_at, updated_at)
        select ${order.intentId}, ${order.brokerOrderId}, ${order.permId ?? null}, ${order.clientId},
          ${order.account}, ${order.sleeve}, ${order.instrument}, ${order.side}, ${order.quantity},
          ${order.orderType}, ${order.limitPrice}, ${order.stopPrice}, ${order.timeInForce}, ${order.status},
          ${order.brokerStatus ?? null}, ${order.status === 'rejected' ? '0' : order.quantity},
          ${order.errorCode ?? null}, ${order.errorText ?? null}, ${order.adopted ?? false}, ${epoch}, ${now}, ${now}
        from fence
        on conflict (intent_id) do nothing
        returning *
      ), first_event as (
        insert into order_events (event_id, order_id, status, broker_status, filled_quantity,
          remaining_quantity, average_fill_price, error_code, reason, at)
        select id || ':' || status || ':' || coalesce(broker_status, '') || ':' || filled_quantity::text || ':'
            || coalesce(error_code::text, ''),
          id, status, broker_status, filled_quantity, remaining_quantity, average_fill_price, error_code,
          error_text, ${now}
        from inserted
        on conflict (event_id) do nothing
      )
      select * from inserted`.execute(this.db);
    const inserted = result.rows[0];
    if (inserted) return { order: inserted, created: true };
    const existing = await this.orderByIntent(order.intentId ?? '');
    if (existing) return { order: existing, created: false };
    throw new FencedError(epoch);
  }

  /**
   * Everything the order router needs before deciding, in one round trip: whether the intent already has
   * an order, the account's positions, the unfilled remainder of working orders, and the account's recent
   * order times.
   */
  async routingContext(
    intentId: string,
    account: string,
    since: Date,
  ): Promise<{
    existing: { id: number; status: string; brokerOrderId: number | null } | null;
    positions: Record<string, string>;
    pending: Record<string, string>;
    recentOrderTimes: number[];
  }> {
    const result = await sql<{
      existing: { id: number; status: string; broker_order_id: number | null } | null;
      positions: Array<{ instrument: string; quantity: string }>;
      pending: Array<{ instrument: string; quantity: string }>;
      recent: number[];
    }>`
      select
        (select json_build_object('id', id, 'status', status, 'broker_order_id', broker_order_id)
           from orders where intent_id = ${intentId}) as existing,
        (select coalesce(json_agg(json_build_object('instrument', instrument, 'quantity', quantity::text)), '[]')
           from positions where account = ${account}) as positions,
        (select coalesce(json_agg(json_build_object('instrument', instrument, 'quantity', remaining::text)), '[]')
           from (select instrument,
                   sum(case when side = 'BUY' then remaining_quantity else -remaining_quantity end) as remaining
                 from orders where status in ('pending', 'submitted', 'partially_filled') group by instrument) working) as pending,
        (select coalesce(json_agg((extract(epoch from created_at) * 1000)::bigint), '[]')
           from orders where account = ${account} and created_at >= ${since} and broker_order_id is not null) as recent`.execute(
      this.db,
    );
    const row = result.rows[0]!;
    return {
      existing: row.existing
        ? { id: row.existing.id, status: row.existing.status, brokerOrderId: row.existing.broker_order_id }
        : null,
      positions: Object.fromEntries(row.positions.map((p) => [p.instrument, p.quantity])),
      pending: Object.fromEntries(row.pending.map((p) => [p.instrument, p.quantity])),
      recentOrderTimes: row.recent.map(Number),
    };
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

  /** Every stored exec id in the window, corrected ones included (the broker may still list them). */
  async executionIdsSince(since: Date): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('executions')
      .select('exec_id')
      .where('executed_at', '>=', since)
      .execute();
    return new Set(rows.map((row) => row.exec_id));
  }

  /** Takes the broker's word for an order's terms (a modification the broker confirmed, or refused). */
  async updateOrderTerms(
    order: OrderRow,
    terms: { quantity: string; limitPrice: string | null; stopPrice: string | null },
  ): Promise<OrderRow> {
    const remaining = Decimal.max(new Decimal(terms.quantity).minus(order.filled_quantity), 0).toFixed();
    return this.db
      .updateTable('orders')
      .set({
        quantity: terms.quantity,
        limit_price: terms.limitPrice,
        stop_price: terms.stopPrice,
        remaining_quantity: remaining,
        updated_at: new Date(this.clock()),
      })
      .where('id', '=', order.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async executionExists(execId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('executions')
      .select('exec_id')
      .where('exec_id', '=', execId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async orderById(id: number): Promise<OrderRow | undefined> {
    return this.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
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

  async position(
    account: string,
    instrument: string,
  ): Promise<{ quantity: string; average_cost: string } | undefined> {
    return this.db
      .selectFrom('positions')
      .select(['quantity', 'average_cost'])
      .where('account', '=', account)
      .where('instrument', '=', instrument)
      .executeTakeFirst();
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

  async orderByIntent(intentId: string): Promise<OrderRow | undefined> {
    return this.db.selectFrom('orders').selectAll().where('intent_id', '=', intentId).executeTakeFirst();
  }

  async orderByBrokerId(brokerOrderId: number): Promise<OrderRow | undefined> {
    return this.db
      .selectFrom('orders')
      .selectAll()
      .where('broker_order_id', '=', brokerOrderId)
      .executeTakeFirst();
  }

  /** The order the broker knows as `orderId` of client `clientId` (IB keys API orders by the two). */
  async orderByBrokerIdentity(clientId: number, brokerOrderId: number): Promise<OrderRow | undefined> {
    return this.db
      .selectFrom('orders')
      .selectAll()
      .where('broker_order_id', '=', brokerOrderId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
  }

  /**
   * Records a broker order that carries the intent id of `original` but is not the order we sent (another
   * client, a manual TWS order, a bug): its own row, adopted, pointing at the order it copies, so its
   * fills never land on ours. Reported by the next reconciliation (`flagged_at` null until then).
   */
  async recordDuplicate(
    original: OrderRow,
    broker: {
      brokerOrderId: number;
      permId: number;
      clientId: number;
      account: string;
      instrument: string;
      side: OrderSide;
      quantity: string;
      orderType: string;
      limitPrice: string | null;
      stopPrice: string | null;
      timeInForce: string;
      status: OrderStatus;
      brokerStatus: string;
      filledQuantity: string;
    },
  ): Promise<OrderRow> {
    return this.db
      .insertInto('orders')
      .values({
        intent_id: null,
        broker_order_id: null,
        perm_id: broker.permId || null,
        client_id: broker.clientId,
        account: broker.account || null,
        sleeve: null,
        instrument: broker.instrument,
        side: broker.side,
        quantity: broker.quantity,
        order_type: broker.orderType,
        limit_price: broker.limitPrice,
        stop_price: broker.stopPrice,
        time_in_force: broker.timeInForce || 'DAY',
        status: broker.status,
        broker_status: broker.brokerStatus,
        filled_quantity: broker.filledQuantity,
        remaining_quantity: Decimal.max(
          new Decimal(broker.quantity).minus(broker.filledQuantity),
          0,
        ).toFixed(),
        adopted: true,
        duplicate_of: original.id,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** An order's terms changed: requested by an operator (before the send), or seen at the broker. */
  async recordAmendment(
    order: OrderRow,
    terms: { quantity: string; limitPrice: string | null; stopPrice: string | null },
    origin: 'operator' | 'broker',
    at: Date,
  ): Promise<void> {
    await this.db
      .insertInto('order_amendments')
      .values({
        order_id: order.id,
        origin,
        requested_by: origin === 'operator' ? 'operator' : null,
        quantity: terms.quantity,
        limit_price: terms.limitPrice,
        stop_price: terms.stopPrice,
        previous_quantity: order.quantity,
        previous_limit_price: order.limit_price,
        previous_stop_price: order.stop_price,
        at,
      })
      .execute();
  }

  /**
   * Confirms an operator's request whose terms the broker now shows; false when no open request asked
   * for these terms (the change was made at the broker).
   */
  async confirmAmendment(
    orderId: number,
    terms: { quantity: string; limitPrice: string | null; stopPrice: string | null },
    at: Date,
  ): Promise<boolean> {
    const confirmed = await this.db
      .updateTable('order_amendments')
      .set({ confirmed_at: at })
      .where('order_id', '=', orderId)
      .where('origin', '=', 'operator')
      .where('confirmed_at', 'is', null)
      .where('quantity', '=', terms.quantity)
      .where(sql<boolean>`limit_price is not distinct from ${terms.limitPrice}::numeric`)
      .where(sql<boolean>`stop_price is not distinct from ${terms.stopPrice}::numeric`)
      .returning('id')
      .execute();
    return confirmed.length > 0;
  }

  async orderByPermId(permId: number): Promise<OrderRow | undefined> {
    if (!permId) return undefined;
    return this.db.selectFrom('orders').selectAll().where('perm_id', '=', permId).executeTakeFirst();
  }

  async openOrders(): Promise<OrderRow[]> {
    return this.db
      .selectFrom('orders')
      .selectAll()
      .where('status', 'in', OPEN_STATUSES)
      .orderBy('id')
      .execute();
  }

  /**
   * Stores a new state and its event in one statement (atomic, and one round trip: this runs for every
   * broker status change).
   */
  async updateOrderState(
    order: OrderRow,
    next: OrderStateSnapshot,
    now: Date,
    extra: { permId?: number } = {},
  ): Promise<OrderRow> {
    const result = await sql<OrderRow>`
      with updated as (
        update orders set
          status = ${next.status},
          broker_status = ${next.brokerStatus},
          filled_quantity = ${next.filledQuantity},
          remaining_quantity = ${next.remainingQuantity},
          average_fill_price = ${next.averageFillPrice},
          error_code = ${next.errorCode},
          error_text = ${next.reason},
          updated_at = ${now},
          perm_id = coalesce(${extra.permId || null}::bigint, perm_id)
        where id = ${order.id}
        returning *
      ), event as (
        insert into order_events (event_id, order_id, status, broker_status, filled_quantity,
          remaining_quantity, average_fill_price, error_code, reason, at)
        select ${eventId(order.id, next)}, id, ${next.status}, ${next.brokerStatus}, ${next.filledQuantity},
          ${next.remainingQuantity}, ${next.averageFillPrice}, ${next.errorCode}, ${next.reason}, ${now}
        from updated
        on conflict (event_id) do nothing
      )
      select * from updated`.execute(this.db);
    const updated = result.rows[0];
    if (!updated) throw new Error(`order ${order.id} vanished while updating its state`);
    return updated;
  }

  /** When the order first left for the broker (kept on a re-send under the same id). */
  async markSent(orderId: number, at: Date): Promise<void> {
    await this.db
      .updateTable('orders')
      .set({ sent_at: at })
      .where('id', '=', orderId)
      .where('sent_at', 'is', null)
      .execute();
  }

  async setPermId(orderId: number, permId: number): Promise<void> {
    await this.db
      .updateTable('orders')
      .set({ perm_id: permId })
      .where('id', '=', orderId)
      .where('perm_id', 'is', null)
      .execute();
  }

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
        await this.movePosition(trx, execution);
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
        await this.rebuildPosition(trx, execution.account, execution.instrument);
      }
      return { inserted: true };
    });
  }

  private async movePosition(trx: Transaction<Database>, execution: StoredExecution): Promise<void> {
    const row = await trx
      .selectFrom('positions')
      .selectAll()
      .where('account', '=', execution.account)
      .where('instrument', '=', execution.instrument)
      .forUpdate()
      .executeTakeFirst();
    const current: PositionState = row
      ? { quantity: row.quantity, costBasis: row.cost_basis, realizedPnl: row.realized_pnl }
      : FLAT;
    await this.writePosition(trx, execution.account, execution.instrument, applyFill(current, execution));
  }

  private async rebuildPosition(
    trx: Transaction<Database>,
    account: string,
    instrument: string,
  ): Promise<void> {
    await trx
      .selectFrom('positions')
      .select('quantity')
      .where('account', '=', account)
      .where('instrument', '=', instrument)
      .forUpdate()
      .execute();
    const executions = await trx
      .selectFrom('executions')
      .select(['side', 'quantity', 'price'])
      .where('account', '=', account)
      .where('instrument', '=', instrument)
      .where('superseded_by', 'is', null)
      .orderBy('executed_at')
      .orderBy('exec_id')
      .execute();
    const position = executions.reduce<PositionState>(
      (state, fill) =>
        applyFill(state, { side: fill.side as OrderSide, quantity: fill.quantity, price: fill.price }),
      FLAT,
    );
    await this.writePosition(trx, account, instrument, position);
  }

  private async writePosition(
    trx: Transaction<Database>,
    account: string,
    instrument: string,
    position: PositionState,
  ): Promise<void> {
    await trx
      .insertInto('positions')
      .values({
        account,
        instrument,
        quantity: position.quantity,
        average_cost: averageCost(position),
        cost_basis: position.costBasis,
        realized_pnl: position.realizedPnl,
        updated_at: new Date(this.clock()),
      })
      .onConflict((conflict) =>
        conflict.columns(['account', 'instrument']).doUpdateSet({
          quantity: position.quantity,
          average_cost: averageCost(position),
          cost_basis: position.costBasis,
          realized_pnl: position.realizedPnl,
          updated_at: new Date(this.clock()),
        }),
      )
      .execute();
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

  async positions(): Promise<Array<{ account: string; instrument: string; quantity: string }>> {
    return this.db.selectFrom('positions').select(['account', 'instrument', 'quantity']).execute();
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
        const view = new ExecutionStore(trx, this.clock);
        const positions = await trx
          .selectFrom('positions')
          .select(['account', 'instrument', 'quantity', 'average_cost'])
          .execute();
        const openOrders = await view.openOrders();
        const executions = await view.executionsSince(since);
        const knownExecIds = await view.executionIdsSince(since);
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

  async audit(entry: AuditEntry): Promise<void> {
    await insertAuditEntries(this.db, [entry]).execute();
  }

  async recordAccountSnapshot(snapshot: {
    account: string;
    currency: string;
    ts: Date;
    netLiquidation: string;
    cash: string;
    realizedPnl: string;
    unrealizedPnl: string;
    dailyPnl: string;
    dailyReturnPct: string;
    highWaterMark: string;
    drawdownPct: string;
    raw: Record<string, string>;
  }): Promise<void> {
    await this.db
      .insertInto('account_snapshots')
      .values({
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
      })
      .execute();
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
        side: row.side === 'SELL' ? 'SELL' : 'BUY',
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
