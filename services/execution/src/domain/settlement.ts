/**
 * Recovery's settlement decision: what becomes of an order we still think is working once a gateway
 * session starts. Pure: the broker's open orders and our stored executions come in, a decision comes out;
 * `recovery.ts` reads and carries it out.
 *
 * Invariants:
 * - An order is matched to the broker's open orders by the identity we recorded (client and order id, or
 *   perm id), never by orderRef: another order carrying one of our intent ids is a duplicate and must not
 *   keep ours alive.
 * - An order no longer open at the broker is filled only if the stored executions cover its quantity;
 *   otherwise it is cancelled with what was executed.
 * - A `pending` order (recorded, maybe never sent) is never settled as cancelled: it is sent again under
 *   its own id (policy `resend`, and only if it has one: IB answers 103 for a used id, so it can never
 *   become a second order), or marked not sent.
 */
import Decimal from 'decimal.js';

export type RecoveryPolicy = 'resend' | 'fail';

/** The identity of an order the broker lists as open. */
export interface BrokerOpenIdentity {
  clientId: number;
  orderId: number;
  /** 0 when the broker sent none. */
  permId: number;
}

/** The identity we recorded for one of our working orders. */
export interface RecordedIdentity {
  clientId: number | null;
  brokerOrderId: number | null;
  permId: string | number | null;
}

/** Whether the broker still lists the order as open, by the identity we recorded. */
export function isOpenAtBroker(order: RecordedIdentity, brokerOpen: readonly BrokerOpenIdentity[]): boolean {
  return brokerOpen.some(
    (open) =>
      (order.brokerOrderId !== null &&
        open.clientId === order.clientId &&
        open.orderId === order.brokerOrderId) ||
      (order.permId !== null && open.permId !== 0 && open.permId === Number(order.permId)),
  );
}

export interface SettlementInput {
  /** Our status for the order (`pending`, `submitted`, `partially_filled`, …). */
  status: string;
  /** The order's quantity, decimal string. */
  quantity: string;
  /** Whether we know the broker order id it was (or would be) sent under. */
  hasBrokerOrderId: boolean;
  /** The quantity our stored executions cover, decimal string. */
  executedQuantity: string;
  policy: RecoveryPolicy;
}

export type Settlement =
  /** The stored executions cover it. */
  | { kind: 'filled'; filledQuantity: string }
  /** A pending order the router may send again (it still applies the halt, staleness and risk checks). */
  | { kind: 'resend' }
  /** A pending order that is not sent again. */
  | { kind: 'not_sent'; reason: string }
  /** Gone from the broker without covering fills: cancelled with what was executed. */
  | { kind: 'cancelled'; filledQuantity: string; remainingQuantity: string };

/** The decision for an order of ours that the broker no longer lists as open. */
export function settleMissingOrder(input: SettlementInput): Settlement {
  const executed = new Decimal(input.executedQuantity);
  if (executed.gte(input.quantity)) return { kind: 'filled', filledQuantity: executed.toFixed() };
  if (input.status === 'pending') {
    return input.policy === 'fail' || !input.hasBrokerOrderId
      ? { kind: 'not_sent', reason: 'recorded but never seen by the broker (recovery policy fail)' }
      : { kind: 'resend' };
  }
  return {
    kind: 'cancelled',
    filledQuantity: executed.toFixed(),
    remainingQuantity: new Decimal(input.quantity).minus(executed).toFixed(),
  };
}
