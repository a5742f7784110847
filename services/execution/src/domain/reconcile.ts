/**
 * Reconciliation: our books against the broker's. Pure: `(local, broker) → mismatches`.
 *
 * Invariants checked:
 * - every instrument's position quantity matches the broker's within the tolerance;
 * - every open order at the broker is one we know, and every order we think is working is at the broker;
 * - every broker execution in the compared window is stored exactly once, and every stored execution in
 *   that window is known to the broker.
 * An empty result means the books agree. What to do about a mismatch (halt) is the caller's business.
 */
import Decimal from 'decimal.js';
import type { ReconciliationMismatch } from '@ibstack/contracts';

export interface PositionView {
  instrument: string;
  quantity: string;
}

export interface LocalOpenOrder {
  brokerOrderId: number;
  intentId: string | null;
  instrument: string;
  remainingQuantity: string;
}

export interface BrokerOpenOrder {
  brokerOrderId: number;
  orderRef: string;
  instrument: string;
  brokerStatus: string;
  remainingQuantity: string;
}

export interface ExecutionView {
  execId: string;
  instrument: string;
  /** Epoch ms of the execution. */
  time: number;
}

export interface LocalView {
  positions: readonly PositionView[];
  openOrders: readonly LocalOpenOrder[];
  /** Executions that count (a corrected one does not). */
  executions: readonly ExecutionView[];
  /**
   * Every stored exec id, corrected ones included: the broker may still list an execution it corrected.
   * @default the ids of `executions`
   */
  knownExecIds?: ReadonlySet<string>;
}

export interface BrokerView {
  positions: readonly PositionView[];
  openOrders: readonly BrokerOpenOrder[];
  executions: readonly ExecutionView[];
  /** Start of the window the broker reports executions for (IB: the current day). */
  executionsSince: number;
}

export interface ReconcileOptions {
  /** Largest position difference (absolute units) still treated as equal. @default "0" */
  positionTolerance?: string;
}

function byInstrument(positions: readonly PositionView[]): Map<string, Decimal> {
  const map = new Map<string, Decimal>();
  for (const position of positions) {
    map.set(position.instrument, (map.get(position.instrument) ?? new Decimal(0)).plus(position.quantity));
  }
  return map;
}

export function reconcile(
  local: LocalView,
  broker: BrokerView,
  options: ReconcileOptions = {},
): ReconciliationMismatch[] {
  const tolerance = new Decimal(options.positionTolerance ?? '0');
  const mismatches: ReconciliationMismatch[] = [];

  const localPositions = byInstrument(local.positions);
  const brokerPositions = byInstrument(broker.positions);
  for (const instrument of new Set([...localPositions.keys(), ...brokerPositions.keys()])) {
    const ours = localPositions.get(instrument) ?? new Decimal(0);
    const theirs = brokerPositions.get(instrument) ?? new Decimal(0);
    if (ours.minus(theirs).abs().lte(tolerance)) continue;
    const kind = ours.isZero()
      ? 'position_unknown_locally'
      : theirs.isZero()
        ? 'position_unknown_at_broker'
        : 'position_quantity';
    mismatches.push({
      kind,
      instrument,
      local: ours.toFixed(),
      broker: theirs.toFixed(),
      detail: `position ${instrument}: ours ${ours.toFixed()}, broker ${theirs.toFixed()}`,
    });
  }

  // Matched by the broker's identity of the order, never by orderRef: another order carrying one of our
  // intent ids is not ours.
  const brokerOrderIds = new Set(broker.openOrders.map((order) => order.brokerOrderId));
  const localOrderIds = new Set(local.openOrders.map((order) => order.brokerOrderId));
  for (const order of broker.openOrders) {
    if (localOrderIds.has(order.brokerOrderId)) continue;
    mismatches.push({
      kind: 'open_order_unknown_locally',
      instrument: order.instrument,
      broker: `order ${order.brokerOrderId} ${order.brokerStatus} remaining ${order.remainingQuantity}`,
      detail: `broker has open order ${order.brokerOrderId} (orderRef "${order.orderRef}") that we do not`,
    });
  }
  for (const order of local.openOrders) {
    if (brokerOrderIds.has(order.brokerOrderId)) continue;
    mismatches.push({
      kind: 'open_order_unknown_at_broker',
      instrument: order.instrument,
      local: `order ${order.brokerOrderId} remaining ${order.remainingQuantity}`,
      detail: `we think order ${order.brokerOrderId} (intent ${order.intentId ?? 'none'}) is working; the broker does not`,
    });
  }

  const storedExecIds = local.knownExecIds ?? new Set(local.executions.map((execution) => execution.execId));
  const brokerExecIds = new Set(broker.executions.map((execution) => execution.execId));
  for (const execution of broker.executions) {
    if (storedExecIds.has(execution.execId)) continue;
    mismatches.push({
      kind: 'execution_missing_locally',
      instrument: execution.instrument,
      broker: execution.execId,
      detail: `broker execution ${execution.execId} is not stored`,
    });
  }
  for (const execution of local.executions) {
    if (execution.time < broker.executionsSince || brokerExecIds.has(execution.execId)) continue;
    mismatches.push({
      kind: 'execution_unknown_at_broker',
      instrument: execution.instrument,
      local: execution.execId,
      detail: `stored execution ${execution.execId} is not reported by the broker`,
    });
  }
  return mismatches;
}
