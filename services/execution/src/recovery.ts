/**
 * What execution does when a gateway session starts (first start, reconnect, new lease holder), before
 * it takes any intent: learn what happened at the broker while it was away.
 *
 * - `reqAllOpenOrders`: orders the tracker knows get their current state; an open order no intent
 *   explains is adopted, and the reconciliation that follows reports it.
 * - `reqExecutions`: fills that happened while disconnected are stored (once, by exec id).
 * - Every order we still think is working but the broker no longer lists is settled from the stored
 *   executions: filled if they cover it, otherwise cancelled. A `pending` order (recorded, maybe never
 *   sent) is sent again under its own id (policy `resend`: IB answers 103 if that id was used, so it can
 *   never become a second order) — but only if it would be sent now: not while HALTED, not once stale,
 *   not against the risk rules. Otherwise, and with policy `fail`, it is marked inactive; if it did fill
 *   in a broker day we can no longer query, the position check of the reconciliation that follows halts.
 * - `reqCompletedOrders` and the working orders' statuses: `reqExecutions` reaches back only to the
 *   gateway's midnight, so a fill made before it while we were away is gone from there. An order of ours
 *   (by the identity we recorded) the broker says filled more than we stored gets the missing fill rebuilt (`domain/reconstruct.ts`): stored once under a
 *   deterministic exec id, marked `reconstructed_from`, audited, and reported by the next reconciliation
 *   as `execution_reconstructed`. One that cannot be priced is left out, and the position check halts.
 */
import Decimal from 'decimal.js';
import { deterministicId, nowIso } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { Broker, BrokerOrderStatus } from './ports';
import { brokerExecutionsSince } from './domain/account';
import { reconstructedExecId, reconstructFill } from './domain/reconstruct';
import { isOpenAtBroker, type RecoveryPolicy, settleMissingOrder } from './domain/settlement';
import type { ExecutionStore } from './adapters/pg-store';
import type { CrashPoints } from './crash-points';
import type { OrderRouter } from './order-router';
import type { OrderTracker } from './order-tracker';

export type { RecoveryPolicy } from './domain/settlement';

export interface RecoveryDependencies {
  store: ExecutionStore;
  broker: Broker;
  tracker: OrderTracker;
  router: OrderRouter;
  log: Logger;
  policy: RecoveryPolicy;
  /** The gateway's local zone (GATEWAY_TIME_ZONE): its midnight is IB's execution cut-off. @default "UTC" */
  gatewayTimeZone?: string;
  crashPoints?: CrashPoints;
  /** Epoch ms. @default Date.now */
  clock?: () => number;
}

export async function recover(deps: RecoveryDependencies): Promise<void> {
  const { store, broker, tracker, router, log } = deps;
  await tracker.drain();
  const open = await broker.openOrders();
  await broker.executions({});
  await tracker.drain();
  deps.crashPoints?.hit('during_recovery');
  await reconstructMissedFills(deps, open.statuses);

  for (const order of await store.orders.openOrders()) {
    const identity = {
      clientId: order.client_id,
      brokerOrderId: order.broker_order_id,
      permId: order.perm_id,
    };
    if (isOpenAtBroker(identity, open.orders)) continue;
    const executedQuantity = await store.executions.executedQuantity(order.id);
    const settlement = settleMissingOrder({
      status: order.status,
      quantity: order.quantity,
      hasBrokerOrderId: order.broker_order_id !== null,
      executedQuantity,
      policy: deps.policy,
    });
    switch (settlement.kind) {
      case 'filled':
        await tracker.apply(order, {
          kind: 'status',
          brokerStatus: 'Filled',
          filledQuantity: settlement.filledQuantity,
          remainingQuantity: '0',
          averageFillPrice: order.average_fill_price,
        });
        break;
      case 'resend':
      case 'not_sent': {
        // Sent again only if it would be sent now: trading not halted, not stale, within the risk rules.
        const refusal =
          settlement.kind === 'not_sent' ? settlement.reason : await router.resendIfAllowed(order);
        if (refusal === null) {
          log.warn(
            { orderId: order.broker_order_id, intentId: order.intent_id },
            'order recorded but unknown to the broker: sent it under its own id',
          );
        } else {
          log.warn(
            { orderId: order.broker_order_id, intentId: order.intent_id, refusal },
            'order recorded but unknown to the broker: not sending it',
          );
          await tracker.apply(order, {
            kind: 'not_found_at_broker',
            reason: `not sent after recovery: ${refusal}`,
          });
        }
        break;
      }
      case 'cancelled':
        log.warn(
          { orderId: order.broker_order_id, executed: settlement.filledQuantity },
          'working order no longer open at the broker: settling as cancelled',
        );
        await tracker.apply(order, {
          kind: 'status',
          brokerStatus: 'Cancelled',
          filledQuantity: settlement.filledQuantity,
          remainingQuantity: settlement.remainingQuantity,
          averageFillPrice: order.average_fill_price,
        });
        break;
    }
  }
  await tracker.drain();
}

/** What the broker still says an order of ours filled: a completed order, or a working order's status. */
interface FilledReport {
  source: 'completed_order' | 'order_status';
  permId: number;
  /** Working orders only: the broker order id and client id (a completed order carries neither). */
  orderId?: number;
  clientId?: number;
  orderRef: string;
  account: string;
  filledQuantity: string;
  /** The broker's average over all the order's fills (a status has it; a completed order has not). */
  averageFillPrice: string | null;
  /** Epoch ms the order finished; NaN when unknown (a working order). */
  completedAt: number;
}

/**
 * Rebuilds the fills of our orders that the broker says were filled but we never stored and
 * `reqExecutions` no longer lists (past IB's midnight cut-off): from finished orders (`reqCompletedOrders`)
 * and from the statuses of working ones (`openStatuses`, read before the executions, so a fill arriving
 * meanwhile is never mistaken for a missing one). Idempotent: the exec id is a function of the perm id and
 * the broker's filled quantity, and nothing is rebuilt once the stored fills cover it.
 */
export async function reconstructMissedFills(
  deps: Pick<RecoveryDependencies, 'store' | 'broker' | 'tracker' | 'log' | 'gatewayTimeZone' | 'clock'>,
  openStatuses: readonly BrokerOrderStatus[] = [],
): Promise<number> {
  const { store, broker, tracker, log } = deps;
  const reports: FilledReport[] = openStatuses
    .filter((status) => status.permId > 0 && status.clientId === broker.clientId)
    .map((status) => ({
      source: 'order_status' as const,
      permId: status.permId,
      orderId: status.orderId,
      clientId: status.clientId,
      orderRef: '',
      account: '',
      filledQuantity: status.filledQuantity,
      averageFillPrice: new Decimal(status.averageFillPrice).gt(0) ? status.averageFillPrice : null,
      completedAt: Number.NaN,
    }));
  try {
    for (const order of await broker.completedOrders())
      reports.push({
        source: 'completed_order',
        permId: order.permId,
        orderRef: order.orderRef,
        account: order.account,
        filledQuantity: order.filledQuantity,
        averageFillPrice: null,
        completedAt: order.completedAt,
      });
  } catch (error) {
    // Not fatal: a fill it would have rebuilt leaves the position unexplained, and the reconciliation halts.
    log.warn(
      { err: error },
      "could not read completed orders: fills past IB's execution cut-off are not rebuilt from them",
    );
  }
  // A rebuilt fill happened before the window IB reports (else reqExecutions would list it).
  let beforeWindow: number | undefined;
  let rebuilt = 0;
  for (const report of reports) {
    if (!report.permId || !new Decimal(report.filledQuantity).gt(0)) continue;
    // By the identity we recorded only: a completed order carries no order id, and an orderRef alone
    // may be a duplicate's.
    const order =
      (report.orderId !== undefined && report.clientId !== undefined
        ? await store.orders.orderByBrokerIdentity(report.clientId, report.orderId)
        : undefined) ?? (await store.orders.orderByPermId(report.permId));
    if (!order) continue;
    const stored = await store.executions.executedTotals(order.id);
    if (new Decimal(stored.quantity).gte(report.filledQuantity)) continue;
    const account = order.account ?? report.account;
    const [localPosition, brokerPositions] = await Promise.all([
      store.positions.position(account, order.instrument),
      broker.positions(),
    ]);
    const brokerPosition = brokerPositions.find(
      (position) => position.account === account && position.instrument === order.instrument,
    );
    const brokerAverage = report.averageFillPrice;
    const outcome = reconstructFill({
      side: order.side,
      orderType: order.order_type,
      limitPrice: order.limit_price,
      brokerFilledQuantity: report.filledQuantity,
      storedQuantity: stored.quantity,
      storedValue: stored.value,
      statusFilledQuantity:
        brokerAverage !== null
          ? report.filledQuantity
          : order.average_fill_price === null
            ? null
            : order.filled_quantity,
      statusAverageFillPrice: brokerAverage ?? order.average_fill_price,
      position: {
        localQuantity: localPosition?.quantity ?? '0',
        localAverageCost: localPosition?.average_cost ?? '0',
        brokerQuantity: brokerPosition?.quantity ?? '0',
        brokerAverageCost: brokerPosition?.averageCost ?? '0',
      },
    });
    if (outcome.kind === 'nothing_missing') continue;
    if (outcome.kind === 'no_price') {
      log.error(
        {
          permId: report.permId,
          intentId: order.intent_id,
          missing: outcome.quantity,
          reason: outcome.reason,
        },
        'a fill IB no longer lists cannot be rebuilt: the position check will halt',
      );
      continue;
    }
    beforeWindow ??= brokerExecutionsSince(await broker.currentTime(), deps.gatewayTimeZone ?? 'UTC') - 1;
    const execId = reconstructedExecId(report.permId, report.filledQuantity);
    const reconstructedFrom = `${report.source}/${outcome.priceSource}`;
    const inserted = await tracker.reconstruct(
      {
        execId,
        orderId: order.broker_order_id ?? 0,
        permId: report.permId,
        clientId: order.client_id ?? broker.clientId,
        orderRef: order.intent_id ?? report.orderRef,
        account,
        instrument: order.instrument,
        side: order.side,
        quantity: outcome.quantity,
        price: outcome.price,
        cumulativeQuantity: report.filledQuantity,
        averagePrice: outcome.price,
        // When the broker says the order finished; otherwise just before the window IB still reports.
        time: Number.isFinite(report.completedAt) ? report.completedAt : beforeWindow,
      },
      reconstructedFrom,
    );
    if (!inserted) continue;
    rebuilt += 1;
    log.warn(
      {
        execId,
        permId: report.permId,
        intentId: order.intent_id,
        quantity: outcome.quantity,
        price: outcome.price,
        reconstructedFrom,
      },
      'rebuilt a fill IB no longer lists (past its execution cut-off)',
    );
    await store.audit.record({
      v: 1,
      auditId: deterministicId('execution_reconstructed', execId),
      actor: 'execution',
      action: 'execution_reconstructed',
      detail: {
        execId,
        permId: report.permId,
        brokerOrderId: order.broker_order_id,
        intentId: order.intent_id,
        instrument: order.instrument,
        side: order.side,
        quantity: outcome.quantity,
        price: outcome.price,
        reconstructedFrom,
        brokerFilledQuantity: report.filledQuantity,
        storedBefore: stored.quantity,
      },
      at: nowIso(deps.clock),
    });
  }
  await tracker.drain();
  return rebuilt;
}
