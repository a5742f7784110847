/**
 * Follows every order at the broker: `openOrder`/`orderStatus` drive the state machine, `execDetails`
 * stores fills once and moves positions, `commissionReport` joins its execution, errors attributed to
 * an order reject it only when the code says so. Broker events are handled one at a time, in arrival
 * order, so an order's transitions are stored in the order IB sent them.
 */
import { classifyIbError, isOrderRejection } from '@ibstack/ib';
import type { Logger } from '@ibstack/observability';
import type { OrderRow } from '@ibstack/db';
import { deterministicId } from '@ibstack/contracts';
import Decimal from 'decimal.js';

import {
  type BrokerCommission,
  type BrokerExecution,
  type BrokerOpenOrder,
  type BrokerOrderStatus,
  type Broker,
} from './ports';
import { type ExecutionStore, snapshotOf } from './adapters/pg-store';
import type { CrashPoints } from './crash-points';
import { applyBrokerUpdate, type BrokerOrderUpdate, isTerminal } from './domain/order-state';
import type { ExecutionMetrics } from './metrics';

/** A price the broker gave and that is not zero (IB reports 0 for a term the order does not have). */
const nonZero = (price: string | undefined): price is string =>
  price !== undefined && !new Decimal(price).isZero();

export interface TrackerDependencies {
  store: ExecutionStore;
  broker: Broker;
  metrics: ExecutionMetrics;
  log: Logger;
  crashPoints: CrashPoints;
  /** Wakes the outbox publisher after a write. */
  onStored: () => void;
  /** Something at the broker we did not do (a duplicate order, a change of our order): reconcile now. */
  onSurprise?: (what: string) => void;
  now?: () => number;
}

export class OrderTracker {
  private queue: Promise<void> = Promise.resolve();
  private readonly sentAt = new Map<number, number>();
  /** Count of stored changes, and the count at each instrument's latest (what reconciliation settles on). */
  private changes = 0;
  private readonly lastChange = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly deps: TrackerDependencies) {
    this.now = deps.now ?? Date.now;
    const { broker } = deps;
    broker.on('openOrder', (order) => this.enqueue(() => this.onOpenOrder(order)));
    broker.on('orderStatus', (status) => this.enqueue(() => this.onOrderStatus(status)));
    broker.on('execution', (execution) =>
      this.enqueue(async () => {
        await this.onExecution(execution);
      }),
    );
    broker.on('commission', (commission) => this.enqueue(() => this.onCommission(commission)));
    broker.on('orderError', (error) =>
      this.enqueue(() => this.onOrderError(error.orderId, error.code, error.message)),
    );
  }

  /**
   * Resolves once every broker event received so far has been handled. Not those that arrive meanwhile:
   * while an order fills in slices events never stop, and waiting for a quiet queue would wait as long.
   */
  async drain(): Promise<void> {
    await this.queue;
  }

  /** A point in the stream of stored changes, for `touchedSince`. */
  mark(): number {
    return this.changes;
  }

  /** Instruments whose orders, fills or positions changed after `mark`. */
  touchedSince(mark: number): Set<string> {
    const instruments = new Set<string>();
    for (const [instrument, change] of this.lastChange) if (change > mark) instruments.add(instrument);
    return instruments;
  }

  private touch(instrument: string): void {
    this.changes += 1;
    this.lastChange.set(instrument, this.changes);
  }

  markSent(brokerOrderId: number): void {
    this.sentAt.set(brokerOrderId, this.now());
  }

  /** Applies an update that did not come from a broker callback (recovery's conclusions). */
  apply(order: OrderRow, update: BrokerOrderUpdate): Promise<OrderRow> {
    return new Promise<OrderRow>((resolve, reject) => {
      this.enqueue(async () => {
        try {
          const fresh = (await this.deps.store.orders.orderById(order.id)) ?? order;
          resolve(await this.transition(fresh, update));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((error: unknown) => {
      // A failed write is logged and the event dropped; the next reconciliation repairs the books from
      // the broker (and halts if it cannot).
      this.deps.log.error({ err: error }, 'could not handle a broker event');
    });
  }

  private isOurs(clientId: number): boolean {
    return clientId === this.deps.broker.clientId;
  }

  /**
   * The order a broker report is about, by the identity we recorded: the broker order id with the client
   * id that placed it, or the perm id once known. Never by `orderRef` alone: another order carrying one of
   * our intent ids is a duplicate (`duplicateOf`), not ours.
   */
  private async find(orderId: number, permId: number, clientId: number): Promise<OrderRow | undefined> {
    const { store } = this.deps;
    if (orderId > 0) {
      const mine = await store.orders.orderByBrokerIdentity(clientId, orderId);
      if (mine) return mine;
    }
    return store.orders.orderByPermId(permId);
  }

  /** Our order whose intent id a report that is not about it carries, if any. */
  private async duplicateOf(orderRef: string): Promise<OrderRow | undefined> {
    if (!orderRef) return undefined;
    const original = await this.deps.store.orders.orderByIntent(orderRef);
    return original && original.duplicate_of === null ? original : undefined;
  }

  /** Records a duplicate of one of our orders, audits it, and asks for a reconciliation at once. */
  private async recordDuplicate(
    original: OrderRow,
    report: Parameters<ExecutionStore['orders']['recordDuplicate']>[1],
  ): Promise<OrderRow> {
    const { store, log } = this.deps;
    const duplicate = await store.orders.recordDuplicate(original, report);
    const detail = {
      intentId: original.intent_id,
      ourOrderId: original.broker_order_id,
      ourPermId: original.perm_id,
      duplicateOrderId: report.brokerOrderId,
      duplicateClientId: report.clientId,
      duplicatePermId: report.permId,
      quantity: report.quantity,
    };
    log.error(detail, 'a second broker order carries the intent id of one of ours: recorded as a duplicate');
    await this.auditEvent('duplicate_order', { orderRow: duplicate.id, ...detail });
    this.deps.onSurprise?.('duplicate_order');
    return duplicate;
  }

  private async auditEvent(action: string, detail: Record<string, unknown>): Promise<void> {
    const at = new Date(this.now()).toISOString();
    await this.deps.store.audit.record({
      v: 1,
      auditId: deterministicId(action, JSON.stringify(detail)),
      actor: 'execution',
      action,
      detail,
      at,
    });
  }

  private async transition(order: OrderRow, update: BrokerOrderUpdate, permId?: number): Promise<OrderRow> {
    const { next, changed } = applyBrokerUpdate(snapshotOf(order), update);
    if (!changed) {
      if (permId && !order.perm_id) await this.deps.store.orders.setPermId(order.id, permId);
      return order;
    }
    const updated = await this.deps.store.orders.updateOrderState(
      order,
      next,
      new Date(this.now()),
      permId ? { permId } : {},
    );
    this.touch(updated.instrument);
    this.observe(order, updated);
    this.deps.onStored();
    return updated;
  }

  private observe(before: OrderRow, after: OrderRow): void {
    const { metrics } = this.deps;
    const labels = { instrument: after.instrument, side: after.side, sleeve: after.sleeve ?? 'none' };
    const sent = after.broker_order_id === null ? undefined : this.sentAt.get(after.broker_order_id);
    if (before.status === 'pending' && after.status !== 'pending' && sent !== undefined) {
      metrics.orderLatency.observe({ stage: 'acknowledged' }, (this.now() - sent) / 1000);
    }
    if (after.status === 'filled' && before.status !== 'filled') {
      metrics.ordersFilled.inc(labels);
      if (sent !== undefined) metrics.orderLatency.observe({ stage: 'filled' }, (this.now() - sent) / 1000);
    }
    if (after.status === 'rejected' && before.status !== 'rejected') {
      metrics.ordersRejected.inc({
        instrument: after.instrument,
        reason: String(after.error_code ?? 'unknown'),
      });
    }
    if (
      ['filled', 'cancelled', 'rejected', 'inactive'].includes(after.status) &&
      after.broker_order_id !== null
    ) {
      this.sentAt.delete(after.broker_order_id);
    }
  }

  private async onOpenOrder(report: BrokerOpenOrder): Promise<void> {
    let order = await this.find(report.orderId, report.permId, report.clientId);
    if (!order) {
      const original = await this.duplicateOf(report.orderRef);
      if (!original) {
        await this.adopt(report);
        return;
      }
      order = await this.recordDuplicate(original, {
        brokerOrderId: report.orderId,
        permId: report.permId,
        clientId: report.clientId,
        account: report.account,
        instrument: report.instrument,
        side: report.side,
        quantity: report.quantity,
        orderType: report.orderType,
        limitPrice: report.limitPrice ?? null,
        stopPrice: report.stopPrice ?? null,
        timeInForce: report.timeInForce,
        status: 'submitted',
        brokerStatus: report.brokerStatus,
        filledQuantity: '0',
      });
    }
    // The broker's terms are the truth: a modification shows here once the broker took it (and the old
    // terms stay if it refused it).
    const terms = {
      quantity: report.quantity,
      limitPrice: report.orderType === 'LMT' && nonZero(report.limitPrice) ? report.limitPrice : null,
      stopPrice: report.orderType === 'STP' && nonZero(report.stopPrice) ? report.stopPrice : null,
    };
    const same = (a: string | null, b: string | null) =>
      a === null || b === null ? a === b : new Decimal(a).eq(b);
    if (
      !isTerminal(order.status) &&
      (!same(order.quantity, terms.quantity) ||
        !same(order.limit_price, terms.limitPrice) ||
        !same(order.stop_price, terms.stopPrice))
    ) {
      // An operator's request the broker now confirms, or a change made at the broker (in TWS) that
      // nobody here asked for: recorded, audited and reported as a mismatch. Either way the broker's
      // terms are what will fill.
      const at = new Date(this.now());
      const requested = await this.deps.store.orders.confirmAmendment(order.id, terms, at);
      if (!requested && order.duplicate_of === null && !order.adopted) {
        await this.deps.store.orders.recordAmendment(order, terms, 'broker', at);
        const detail = {
          intentId: order.intent_id,
          orderId: order.broker_order_id,
          before: { quantity: order.quantity, limitPrice: order.limit_price, stopPrice: order.stop_price },
          after: terms,
        };
        this.deps.log.error(detail, 'our order was changed at the broker, not by us');
        await this.auditEvent('order_modified_at_broker', detail);
        this.deps.onSurprise?.('order_modified_at_broker');
      }
      order = await this.deps.store.orders.updateOrderTerms(order, terms);
      this.touch(order.instrument);
      this.deps.log.info({ orderId: report.orderId, ...terms }, 'order terms now as the broker has them');
    }
    // A Filled openOrder carries no quantities; orderStatus and execDetails bring them.
    if (report.brokerStatus === 'Filled') {
      if (report.permId && !order.perm_id) await this.deps.store.orders.setPermId(order.id, report.permId);
      return;
    }
    await this.transition(
      order,
      {
        kind: 'status',
        brokerStatus: report.brokerStatus,
        filledQuantity: order.filled_quantity,
        remainingQuantity: order.remaining_quantity,
        averageFillPrice: order.average_fill_price,
      },
      report.permId,
    );
  }

  /** An open order at the broker that no intent explains: recorded so it is tracked, and reported. */
  private async adopt(report: BrokerOpenOrder): Promise<void> {
    const { store, log } = this.deps;
    const ours = this.isOurs(report.clientId);
    this.touch(report.instrument);
    await store.orders.recordAdopted(report, ours);
    log.warn(
      {
        orderId: report.orderId,
        permId: report.permId,
        clientId: report.clientId,
        orderRef: report.orderRef,
      },
      'adopted an order no intent explains',
    );
  }

  private async onOrderStatus(report: BrokerOrderStatus): Promise<void> {
    const order = await this.find(report.orderId, report.permId, report.clientId);
    if (!order) {
      this.deps.log.debug(
        { orderId: report.orderId, permId: report.permId },
        'status for an order not (yet) known',
      );
      return;
    }
    await this.transition(
      order,
      {
        kind: 'status',
        brokerStatus: report.brokerStatus,
        filledQuantity: report.filledQuantity,
        remainingQuantity: report.remainingQuantity,
        averageFillPrice: new Decimal(report.averageFillPrice).gt(0) ? report.averageFillPrice : null,
      },
      report.permId,
    );
  }

  /**
   * Stores a fill recovery rebuilt from what the broker still reports (its exec id deterministic), through
   * the same path as a reported one: once, moving the position, published. Resolves whether it was new.
   */
  reconstruct(execution: BrokerExecution, reconstructedFrom: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.enqueue(async () => {
        try {
          resolve(await this.onExecution(execution, reconstructedFrom));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  }

  private async onExecution(execution: BrokerExecution, reconstructedFrom?: string): Promise<boolean> {
    let order = await this.find(execution.orderId, execution.permId, execution.clientId);
    if (!order && !(await this.deps.store.executions.executionExists(execution.execId))) {
      const original = await this.duplicateOf(execution.orderRef);
      if (original)
        order = await this.recordDuplicate(original, {
          brokerOrderId: execution.orderId,
          permId: execution.permId,
          clientId: execution.clientId,
          account: execution.account,
          instrument: execution.instrument,
          side: execution.side,
          // All the broker has told about this order: what it has filled so far.
          quantity: execution.cumulativeQuantity,
          orderType: 'UNKNOWN',
          limitPrice: null,
          stopPrice: null,
          timeInForce: '',
          status: 'filled',
          brokerStatus: 'Filled',
          filledQuantity: execution.cumulativeQuantity,
        });
    }
    const { inserted } = await this.deps.store.executions.recordExecution({
      execId: execution.execId,
      orderId: order?.id ?? null,
      brokerOrderId: execution.orderId,
      permId: execution.permId,
      // Only an order of ours gives a fill an intent: a duplicate's fill must never count for the intent.
      intentId: order?.intent_id ?? null,
      account: execution.account,
      instrument: execution.instrument,
      side: execution.side,
      quantity: execution.quantity,
      price: execution.price,
      cumulativeQuantity: execution.cumulativeQuantity,
      averagePrice: execution.averagePrice,
      executedAt: new Date(Number.isFinite(execution.time) ? execution.time : this.now()),
      reconstructedFrom,
    });
    if (!inserted) return false;
    this.touch(execution.instrument);
    this.deps.crashPoints.hit('after_fill_stored');
    this.deps.log.info(
      {
        orderId: execution.orderId,
        intentId: order?.intent_id ?? null,
        sleeve: order?.sleeve ?? null,
        instrument: execution.instrument,
        side: execution.side,
        quantity: execution.quantity,
        price: execution.price,
        execId: execution.execId,
      },
      'fill',
    );
    this.deps.metrics.fillsStored.inc({ instrument: execution.instrument });
    this.deps.onStored();
    return true;
  }

  private async onCommission(report: BrokerCommission): Promise<void> {
    await this.deps.store.executions.recordCommission(report);
    this.deps.onStored();
  }

  private async onOrderError(orderId: number, code: number, message: string): Promise<void> {
    const classified = classifyIbError(code, orderId, message);
    if (!isOrderRejection(classified)) return;
    const order = await this.deps.store.orders.orderByBrokerId(orderId);
    if (!order) return;
    // Only an order the broker never acknowledged (or just reported Inactive without saying why) can be
    // rejected by an error. Once acknowledged, an error about it refuses a request (a modification with a
    // bad price, say) and the order lives on; its end comes with orderStatus.
    const unexplainedInactive = order.status === 'inactive' && order.error_code === null;
    if (order.status !== 'pending' && !unexplainedInactive) {
      this.deps.log.warn(
        { orderId, code, message, status: order.status },
        'broker refused a request about a working order',
      );
      return;
    }
    await this.transition(order, { kind: 'rejected', errorCode: code, reason: message });
  }
}
