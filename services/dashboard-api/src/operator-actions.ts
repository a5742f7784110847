/**
 * What an operator does from the dashboard, each through the path the stack already has:
 * - a manual order is an order intent of the operator sleeve; execution checks it against the account's
 *   risk rules and places it exactly once. Its intent id is derived from the user and the
 *   Idempotency-Key, so a retry publishes the same intent (JetStream drops the duplicate, execution's
 *   order table is unique on it) and can never become a second order;
 * - cancel, modify and reconcile are `sys.control` commands that execution carries out and audits;
 * - halt and resume write the trading state through @ibstack/operator, the CLI's own path, which takes
 *   effect even while execution is down.
 */
import type { Bus } from '@ibstack/bus';
import {
  type AuditEntry,
  backoffDelayMs,
  deterministicId,
  type IntentId,
  nowIso,
  type OrderIntent,
  randomId,
  topics,
  type TradingStateName,
} from '@ibstack/contracts';
import { type Database, insertAuditEntries, type Kysely, type OrderRow } from '@ibstack/db';
import { requestReconciliation, setTradingState } from '@ibstack/operator';
import Decimal from 'decimal.js';

import { OPEN_ORDER_STATUSES, orderView, type ReadStore } from './adapters/pg-read';
import { ApiError, ErrorCode } from './api/errors';
import type { Order } from './api/schemas';

export interface ManualOrder {
  instrument: string;
  side: 'BUY' | 'SELL';
  quantity: string;
  orderType: 'MKT' | 'LMT' | 'STP';
  limitPrice?: string | undefined;
  stopPrice?: string | undefined;
  timeInForce: 'DAY' | 'GTC';
  reason?: string | undefined;
}

export interface Placement {
  status: 201 | 202;
  body: { intentId: string; idempotencyKey: string; state: 'recorded' | 'pending'; order: Order | null };
}

const VIA = 'dashboard';

export class OperatorActions {
  constructor(
    private readonly deps: {
      bus: Bus;
      db: Kysely<Database>;
      read: ReadStore;
      sleeve: string;
      orderWaitMs: number;
      now?: () => number;
    },
  ) {}

  /** The intent id of a user's order with this key: the same on every retry. */
  intentIdFor(username: string, idempotencyKey: string): IntentId {
    return deterministicId('manual-order', username, idempotencyKey) as IntentId;
  }

  async placeOrder(username: string, idempotencyKey: string, order: ManualOrder): Promise<Placement> {
    const intentId = this.intentIdFor(username, idempotencyKey);
    const existing = await this.deps.read.orderByIntent(intentId);
    if (existing) {
      // A retry is compared with the request that placed the order, not with the order as it is now: a
      // modify since then (PATCH) changed the order's price or quantity, not what the key stands for.
      const original = await this.originalRequest(intentId);
      if (original ? !sameRequest(order, original) : !sameOrder(order, existing)) throw keyReused();
      return this.answer(intentId, idempotencyKey, existing);
    }

    const referencePrice =
      order.orderType === 'LMT'
        ? order.limitPrice
        : order.orderType === 'STP'
          ? order.stopPrice
          : await this.deps.read.lastPrice(order.instrument);
    if (!referencePrice)
      throw new ApiError(
        422,
        ErrorCode.refused,
        `no price is known for ${order.instrument} yet (no bars); the risk rules need one for a market order`,
        'instrument',
      );
    const now = nowIso(this.deps.now);
    const intent: OrderIntent = {
      v: 1,
      intentId,
      sleeve: this.deps.sleeve,
      instrument: order.instrument,
      side: order.side,
      quantity: order.quantity,
      orderType: order.orderType,
      ...(order.limitPrice ? { limitPrice: order.limitPrice } : {}),
      ...(order.stopPrice ? { stopPrice: order.stopPrice } : {}),
      timeInForce: order.timeInForce,
      barTs: now,
      timeframe: '1m',
      sequence: 0,
      referencePrice,
      reason: (order.reason ?? `manual order by ${username}`).slice(0, 200),
      createdAt: now,
    };
    // Audited before it is sent, once per intent however often it is retried. The first request to write
    // the entry owns the key: one racing it with a different order reads that entry back and publishes
    // nothing, so the intent execution records is always the audited one.
    await this.audit(username, 'manual_order', deterministicId('manual-order-audit', intentId), {
      intentId,
      idempotencyKey,
      ...order,
    });
    const original = await this.originalRequest(intentId);
    if (original && !sameRequest(order, original)) throw keyReused();
    await this.deps.bus.publish(topics.orderIntent, intent);
    const recorded = await this.waitForOrder(intentId);
    if (!recorded) return { status: 202, body: { intentId, idempotencyKey, state: 'pending', order: null } };
    return this.answer(intentId, idempotencyKey, recorded);
  }

  /** The order as first requested under this intent id, from its `manual_order` audit entry. */
  private async originalRequest(intentId: string): Promise<ManualOrder | undefined> {
    return (await this.deps.read.auditDetail(deterministicId('manual-order-audit', intentId))) as
      ManualOrder | undefined;
  }

  private answer(intentId: string, idempotencyKey: string, row: OrderRow): Placement {
    if (row.status === 'rejected' && row.broker_order_id === null)
      throw new ApiError(
        422,
        ErrorCode.refused,
        `execution refused the order: ${row.error_text ?? 'no reason given'}`,
      );
    return { status: 201, body: { intentId, idempotencyKey, state: 'recorded', order: orderView(row) } };
  }

  private async waitForOrder(intentId: string): Promise<OrderRow | undefined> {
    const deadline = Date.now() + this.deps.orderWaitMs;
    for (let attempt = 1; ; attempt += 1) {
      const row = await this.deps.read.orderByIntent(intentId);
      if (row || Date.now() >= deadline) return row;
      await new Promise((resolve) =>
        setTimeout(resolve, backoffDelayMs(attempt, { firstMs: 20, maxMs: 250 })),
      );
    }
  }

  /** Cancels or modifies one of our orders by its id; execution carries it out and audits it. */
  async cancelOrder(username: string, orderId: number): Promise<{ commandId: string; command: string }> {
    const order = await this.workingOrder(orderId);
    const commandId = randomId();
    await this.deps.bus.publish(topics.control, {
      v: 1,
      command: 'cancel_order',
      commandId,
      by: username,
      at: nowIso(this.deps.now),
      intentId: order.intent_id!,
    });
    return { commandId, command: 'cancel_order' };
  }

  async modifyOrder(
    username: string,
    orderId: number,
    changes: {
      quantity?: string | undefined;
      limitPrice?: string | undefined;
      stopPrice?: string | undefined;
    },
  ): Promise<{ commandId: string; command: string }> {
    const order = await this.workingOrder(orderId);
    if (changes.limitPrice && order.order_type !== 'LMT')
      throw new ApiError(
        409,
        ErrorCode.conflict,
        `order ${orderId} is ${order.order_type}: it has no limit price`,
        'limitPrice',
      );
    if (changes.stopPrice && order.order_type !== 'STP')
      throw new ApiError(
        409,
        ErrorCode.conflict,
        `order ${orderId} is ${order.order_type}: it has no stop price`,
        'stopPrice',
      );
    if (changes.quantity && new Decimal(changes.quantity).lte(String(order.filled_quantity)))
      throw new ApiError(
        409,
        ErrorCode.conflict,
        `order ${orderId} has ${String(order.filled_quantity)} filled: quantity must be larger`,
        'quantity',
      );
    const commandId = randomId();
    await this.deps.bus.publish(topics.control, {
      v: 1,
      command: 'modify_order',
      commandId,
      by: username,
      at: nowIso(this.deps.now),
      intentId: order.intent_id!,
      ...(changes.quantity ? { quantity: changes.quantity } : {}),
      ...(changes.limitPrice ? { limitPrice: changes.limitPrice } : {}),
      ...(changes.stopPrice ? { stopPrice: changes.stopPrice } : {}),
    });
    return { commandId, command: 'modify_order' };
  }

  private async workingOrder(orderId: number): Promise<OrderRow> {
    const order = await this.deps.read.orderById(orderId);
    if (!order) throw new ApiError(404, ErrorCode.notFound, `no order ${orderId}`, 'id');
    if (!(OPEN_ORDER_STATUSES as readonly string[]).includes(order.status))
      throw new ApiError(409, ErrorCode.conflict, `order ${orderId} is ${order.status}: nothing to change`);
    if (!order.intent_id)
      throw new ApiError(
        409,
        ErrorCode.conflict,
        `order ${orderId} was not placed by ibstack; change it where it was placed`,
      );
    return order;
  }

  async setTradingState(username: string, state: TradingStateName, reason: string) {
    return setTradingState({ bus: this.deps.bus, db: this.deps.db }, state, reason, username, VIA);
  }

  async reconcile(username: string): Promise<{ commandId: string; command: string }> {
    return { commandId: await requestReconciliation(this.deps.bus, username), command: 'reconcile' };
  }

  async audit(
    actor: string,
    action: string,
    auditId: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    const entry: AuditEntry = {
      v: 1,
      auditId,
      actor,
      action,
      detail: { ...detail, via: VIA },
      at: nowIso(this.deps.now),
    };
    await insertAuditEntries(this.deps.db, [entry]).execute();
    await this.deps.bus.publish(topics.audit, entry);
  }
}

function keyReused(): ApiError {
  return new ApiError(
    409,
    ErrorCode.conflict,
    'this Idempotency-Key was used for a different order; use a new key for a new order',
    'Idempotency-Key',
  );
}

const sameDecimal = (a: string | null | undefined, b: string | null | undefined) =>
  (a === undefined || a === null) === (b === undefined || b === null) &&
  (a == null || b == null || new Decimal(a).eq(b));

/** The same request: what the order is, not its free-text reason. */
function sameRequest(order: ManualOrder, original: ManualOrder): boolean {
  return (
    order.instrument === original.instrument &&
    order.side === original.side &&
    sameDecimal(order.quantity, original.quantity) &&
    order.orderType === original.orderType &&
    sameDecimal(order.limitPrice, original.limitPrice) &&
    sameDecimal(order.stopPrice, original.stopPrice) &&
    order.timeInForce === original.timeInForce
  );
}

/** For an order placed before its request was audited: compared with the order row itself. */
function sameOrder(order: ManualOrder, row: OrderRow): boolean {
  const equal = (a: string | null | undefined, b: string | null) =>
    (a === undefined || a === null) === (b === null) && (a == null || b === null || new Decimal(a).eq(b));
  return (
    row.instrument === order.instrument &&
    row.side === order.side &&
    new Decimal(row.quantity).eq(order.quantity) &&
    row.order_type === order.orderType &&
    equal(order.limitPrice, row.limit_price) &&
    equal(order.stopPrice, row.stop_price)
  );
}
