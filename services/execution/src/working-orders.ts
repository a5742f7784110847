/**
 * Cancels our working orders at the broker: a halt alone only stops new intents, while resting limit and
 * stop orders would go on filling. Ours are the open orders this client placed (IB lets a client cancel
 * only its own orders); the broker's order status then settles each one in our books. Orders of other
 * clients are left, and reconciliation reports them.
 */
import type { Logger } from '@ibstack/observability';

import type { Broker } from './ports';
import type { ExecutionStore } from './adapters/pg-store';

export async function cancelWorkingOrders(deps: {
  store: ExecutionStore;
  broker: Broker;
  log: Logger;
}): Promise<number[]> {
  const { store, broker, log } = deps;
  if (!broker.isReady()) {
    log.error('cannot cancel working orders: no gateway session');
    return [];
  }
  const cancelled: number[] = [];
  for (const order of await store.orders.openOrders()) {
    if (order.broker_order_id === null || order.client_id !== broker.clientId) continue;
    broker.cancelOrder(order.broker_order_id);
    cancelled.push(order.broker_order_id);
  }
  if (cancelled.length > 0) log.warn({ orders: cancelled }, 'cancelled working orders');
  return cancelled;
}
