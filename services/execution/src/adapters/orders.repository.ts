/**
 * `orders`, their `order_events` and `order_amendments`. An order row is written with its first event, and
 * every state change with its event, in one statement: the outbox publishes the events afterwards.
 */
import type { OrderSide, OrderStatus } from '@ibstack/contracts';
import { type Database, type Kysely, type OrderRow, sql } from '@ibstack/db';
import type { PendingOrders } from '@ibstack/risk';
import Decimal from 'decimal.js';

import type { OrderStateSnapshot } from '../domain/order-state';
import type { BrokerOpenOrder } from '../ports';
import { FencedError } from '../errors';
import { FENCE_NAME } from './fence.repository';

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

export function snapshotOf(row: OrderRow): OrderStateSnapshot {
  return {
    status: row.status,
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

export class OrdersRepository {
  /** @param clock epoch ms, for the `updated_at` we write. @default Date.now */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number = Date.now,
  ) {}

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
    /** Working orders' remaining buys and sells by instrument, apart (the risk check takes the worst case). */
    pending: Record<string, PendingOrders>;
    recentOrderTimes: number[];
  }> {
    const result = await sql<{
      existing: { id: number; status: string; broker_order_id: number | null } | null;
      positions: Array<{ instrument: string; quantity: string }>;
      pending: Array<{ instrument: string; buy: string; sell: string }>;
      recent: number[];
    }>`
      select
        (select json_build_object('id', id, 'status', status, 'broker_order_id', broker_order_id)
           from orders where intent_id = ${intentId}) as existing,
        (select coalesce(json_agg(json_build_object('instrument', instrument, 'quantity', quantity::text)), '[]')
           from positions where account = ${account}) as positions,
        (select coalesce(json_agg(json_build_object('instrument', instrument, 'buy', buy::text, 'sell', sell::text)), '[]')
           from (select instrument,
                   sum(case when side = 'BUY' then remaining_quantity else 0 end) as buy,
                   sum(case when side = 'SELL' then remaining_quantity else 0 end) as sell
                 from orders
                 -- This account's, and any whose account is not known yet (counted, to be safe).
                 where (account = ${account} or account is null)
                   and status in ('pending', 'submitted', 'partially_filled')
                 group by instrument) working) as pending,
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
      pending: Object.fromEntries(row.pending.map((p) => [p.instrument, { buy: p.buy, sell: p.sell }])),
      recentOrderTimes: row.recent.map(Number),
    };
  }

  async orderById(id: number): Promise<OrderRow | undefined> {
    return this.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
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

  /**
   * Records a broker order that carries the intent id of `original` but is not the order we sent (another
   * client, a manual TWS order, a bug): its own row, adopted, pointing at the order it copies, so its
   * fills never land on ours. Reported by the next reconciliation (`flagged_at` null until then).
   */
  async recordDuplicate(
    original: OrderRow,
    broker: Pick<
      NewOrder,
      | 'clientId'
      | 'instrument'
      | 'side'
      | 'quantity'
      | 'orderType'
      | 'limitPrice'
      | 'stopPrice'
      | 'timeInForce'
      | 'status'
    > & {
      brokerOrderId: number;
      permId: number;
      account: string;
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

  /**
   * Records an open order at the broker that no intent explains (adopted), so it is tracked. `ours`: placed
   * under our client id, so its broker order id is one of ours.
   */
  async recordAdopted(report: BrokerOpenOrder, ours: boolean): Promise<void> {
    await this.db
      .insertInto('orders')
      .values({
        intent_id: null,
        broker_order_id: ours ? report.orderId : null,
        perm_id: report.permId || null,
        client_id: report.clientId,
        account: report.account || null,
        sleeve: null,
        instrument: report.instrument,
        side: report.side,
        quantity: report.quantity,
        order_type: report.orderType,
        limit_price: report.limitPrice ?? null,
        stop_price: report.stopPrice ?? null,
        time_in_force: report.timeInForce || 'DAY',
        status: 'submitted',
        broker_status: report.brokerStatus,
        remaining_quantity: report.quantity,
        adopted: true,
      })
      .onConflict((conflict) => conflict.column('broker_order_id').doNothing())
      .execute();
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
}
