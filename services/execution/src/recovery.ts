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
 */
import Decimal from 'decimal.js';
import type { Logger } from '@ibstack/observability';

import type { IbBroker } from './adapters/ib-broker';
import type { ExecutionStore } from './adapters/pg-store';
import type { CrashPoints } from './crash-points';
import type { OrderRouter } from './order-router';
import type { OrderTracker } from './order-tracker';

export type RecoveryPolicy = 'resend' | 'fail';

export interface RecoveryDependencies {
  store: ExecutionStore;
  broker: IbBroker;
  tracker: OrderTracker;
  router: OrderRouter;
  log: Logger;
  policy: RecoveryPolicy;
  crashPoints?: CrashPoints;
}

export async function recover(deps: RecoveryDependencies): Promise<void> {
  const { store, broker, tracker, router, log } = deps;
  await tracker.drain();
  const open = await broker.openOrders();
  await broker.executions({});
  await tracker.drain();
  deps.crashPoints?.hit('during_recovery');

  // By the identity we recorded (client and order id, or perm id), never by orderRef: another order
  // carrying one of our intent ids is a duplicate, and must not keep ours alive.
  const openIds = new Set(open.orders.map((order) => `${order.clientId}:${order.orderId}`));
  const openPermIds = new Set(open.orders.map((order) => order.permId).filter(Boolean));

  for (const order of await store.openOrders()) {
    const atBroker =
      (order.broker_order_id !== null && openIds.has(`${order.client_id}:${order.broker_order_id}`)) ||
      (order.perm_id !== null && openPermIds.has(Number(order.perm_id)));
    if (atBroker) continue;
    const executed = new Decimal(await store.executedQuantity(order.id));
    if (executed.gte(order.quantity)) {
      await tracker.apply(order, {
        kind: 'status',
        brokerStatus: 'Filled',
        filledQuantity: executed.toFixed(),
        remainingQuantity: '0',
        averageFillPrice: order.average_fill_price,
      });
      continue;
    }
    if (order.status === 'pending') {
      // Sent again only if it would be sent now: trading not halted, not stale, within the risk rules.
      const refusal =
        deps.policy === 'fail' || order.broker_order_id === null
          ? 'recorded but never seen by the broker (recovery policy fail)'
          : await router.resendIfAllowed(order);
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
      continue;
    }
    log.warn(
      { orderId: order.broker_order_id, executed: executed.toFixed() },
      'working order no longer open at the broker: settling as cancelled',
    );
    await tracker.apply(order, {
      kind: 'status',
      brokerStatus: 'Cancelled',
      filledQuantity: executed.toFixed(),
      remainingQuantity: new Decimal(order.quantity).minus(executed).toFixed(),
      averageFillPrice: order.average_fill_price,
    });
  }
  await tracker.drain();
}
