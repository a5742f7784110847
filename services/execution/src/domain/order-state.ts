/**
 * The life of one order, driven by what the broker says. Pure: takes the stored state and a broker
 * update, returns the next state and whether anything changed.
 *
 * Invariants:
 * - terminal states (filled, cancelled, rejected, inactive) never go back to a live state;
 * - the filled quantity never decreases (IB may deliver orderStatus messages out of order or repeat
 *   them), and it may still grow after a cancel when a fill raced the cancel;
 * - a timeout or a disconnect is not a rejection: only a definitive broker answer ends an order.
 */
import Decimal from 'decimal.js';
import { type OrderStatus, TERMINAL_ORDER_STATUSES } from '@ibstack/contracts';

export interface OrderStateSnapshot {
  status: OrderStatus;
  brokerStatus: string | null;
  quantity: string;
  filledQuantity: string;
  remainingQuantity: string;
  averageFillPrice: string | null;
  errorCode: number | null;
  reason: string | null;
}

export type BrokerOrderUpdate =
  | {
      kind: 'status';
      /** IB's word: PendingSubmit, PreSubmitted, Submitted, PendingCancel, Cancelled, ApiCancelled, Filled, Inactive. */
      brokerStatus: string;
      filledQuantity: string;
      remainingQuantity: string;
      averageFillPrice: string | null;
    }
  | { kind: 'rejected'; errorCode: number; reason: string }
  | { kind: 'not_found_at_broker'; reason: string };

const LIVE_BROKER_STATUSES = new Set([
  'ApiPending',
  'PendingSubmit',
  'PreSubmitted',
  'Submitted',
  'PendingCancel',
]);

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_ORDER_STATUSES.has(status);
}

function liveStatus(filled: Decimal): OrderStatus {
  return filled.gt(0) ? 'partially_filled' : 'submitted';
}

export function applyBrokerUpdate(
  current: OrderStateSnapshot,
  update: BrokerOrderUpdate,
): { next: OrderStateSnapshot; changed: boolean } {
  const next = nextState(current, update);
  const changed =
    next.status !== current.status ||
    next.brokerStatus !== current.brokerStatus ||
    !new Decimal(next.filledQuantity).eq(current.filledQuantity) ||
    !new Decimal(next.remainingQuantity).eq(current.remainingQuantity) ||
    next.averageFillPrice !== current.averageFillPrice ||
    next.errorCode !== current.errorCode;
  return { next, changed };
}

function nextState(current: OrderStateSnapshot, update: BrokerOrderUpdate): OrderStateSnapshot {
  if (update.kind === 'rejected') {
    const filled = new Decimal(current.filledQuantity);
    // IB may report an order Inactive just before the error that says why: that error is the rejection.
    const inactiveUnexplained = current.status === 'inactive' && current.errorCode === null && filled.eq(0);
    // A reject after fills cannot undo them; IB reports such cases as a cancel of the remainder.
    if (isTerminal(current.status) && !inactiveUnexplained) return current;
    return {
      ...current,
      status: filled.gt(0) ? 'cancelled' : 'rejected',
      errorCode: update.errorCode,
      reason: update.reason,
    };
  }
  if (update.kind === 'not_found_at_broker') {
    if (isTerminal(current.status)) return current;
    return { ...current, status: 'inactive', reason: update.reason };
  }

  const reportedFilled = new Decimal(update.filledQuantity);
  const filled = Decimal.max(reportedFilled, current.filledQuantity);
  const quantity = new Decimal(current.quantity);
  const remaining = Decimal.max(quantity.minus(filled), 0);
  const averageFillPrice =
    reportedFilled.gte(current.filledQuantity) && update.averageFillPrice !== null && reportedFilled.gt(0)
      ? update.averageFillPrice
      : current.averageFillPrice;
  const base = {
    ...current,
    filledQuantity: filled.toFixed(),
    remainingQuantity: remaining.toFixed(),
    averageFillPrice,
  };

  if (isTerminal(current.status)) {
    // Only the quantities may still move (a fill that raced a cancel); the state stays final,
    // except that a cancel whose remainder then fills completely is a fill.
    if (current.status === 'cancelled' && remaining.eq(0))
      return { ...base, status: 'filled', brokerStatus: 'Filled' };
    return { ...base, status: current.status, brokerStatus: current.brokerStatus };
  }

  switch (update.brokerStatus) {
    case 'Filled':
      return {
        ...base,
        brokerStatus: update.brokerStatus,
        status: remaining.eq(0) ? 'filled' : liveStatus(filled),
      };
    case 'Cancelled':
    case 'ApiCancelled':
      return { ...base, brokerStatus: update.brokerStatus, status: 'cancelled' };
    case 'Inactive':
      return { ...base, brokerStatus: update.brokerStatus, status: 'inactive' };
    default:
      if (LIVE_BROKER_STATUSES.has(update.brokerStatus)) {
        // PendingSubmit means the gateway has it but the exchange may not yet; still "submitted" for us.
        return { ...base, brokerStatus: update.brokerStatus, status: liveStatus(filled) };
      }
      return { ...base, brokerStatus: update.brokerStatus };
  }
}
