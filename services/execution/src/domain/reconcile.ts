/**
 * Reconciliation: our books against the broker's. Pure: `(local, broker) → mismatches`.
 *
 * Invariants checked:
 * - in every account, every instrument's position quantity matches the broker's within the (per-instrument)
 *   tolerance, and its average cost within the relative tolerance;
 * - every open order we share with the broker has the same quantity and prices on both sides;
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
  /** Every managed account is compared on its own; absent means one unnamed account. */
  account?: string;
  /** Average cost per unit; compared when both sides give one for a non-flat position. */
  averageCost?: string;
}

/** An order's terms: what is compared between two views of one open order. */
export interface OrderTerms {
  /** The order's total size. */
  quantity?: string;
  limitPrice?: string | null;
  stopPrice?: string | null;
}

export interface LocalOpenOrder extends OrderTerms {
  brokerOrderId: number;
  intentId: string | null;
  instrument: string;
  remainingQuantity: string;
}

export interface BrokerOpenOrder extends OrderTerms {
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
  /** Per instrument key, overriding `positionTolerance`. */
  positionToleranceByInstrument?: Readonly<Record<string, string>>;
  /**
   * Largest relative difference of a position's average cost still treated as equal (0.001 = 0.1 %);
   * undefined: not compared.
   */
  averageCostTolerance?: string;
}

interface Holding {
  account: string | undefined;
  instrument: string;
  quantity: Decimal;
  averageCost: string | undefined;
}

function byAccountAndInstrument(positions: readonly PositionView[]): Map<string, Holding> {
  const map = new Map<string, Holding>();
  for (const position of positions) {
    const key = `${position.account ?? ''}|${position.instrument}`;
    const held = map.get(key);
    map.set(key, {
      account: position.account,
      instrument: position.instrument,
      quantity: (held?.quantity ?? new Decimal(0)).plus(position.quantity),
      averageCost: position.averageCost ?? held?.averageCost,
    });
  }
  return map;
}

function sameTerm(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (a === null || b === null) return a === b;
  return new Decimal(a).eq(b);
}

export function reconcile(
  local: LocalView,
  broker: BrokerView,
  options: ReconcileOptions = {},
): ReconciliationMismatch[] {
  const toleranceOf = (instrument: string) =>
    new Decimal(options.positionToleranceByInstrument?.[instrument] ?? options.positionTolerance ?? '0');
  const mismatches: ReconciliationMismatch[] = [];

  const localPositions = byAccountAndInstrument(local.positions);
  const brokerPositions = byAccountAndInstrument(broker.positions);
  for (const key of new Set([...localPositions.keys(), ...brokerPositions.keys()])) {
    const ours = localPositions.get(key);
    const theirs = brokerPositions.get(key);
    const { instrument, account } = (ours ?? theirs)!;
    const where = account ? `${instrument} in ${account}` : instrument;
    const oursQuantity = ours?.quantity ?? new Decimal(0);
    const theirsQuantity = theirs?.quantity ?? new Decimal(0);
    if (oursQuantity.minus(theirsQuantity).abs().lte(toleranceOf(instrument))) {
      const costTolerance = options.averageCostTolerance;
      if (
        costTolerance !== undefined &&
        !oursQuantity.isZero() &&
        ours?.averageCost !== undefined &&
        theirs?.averageCost !== undefined &&
        !new Decimal(theirs.averageCost).isZero()
      ) {
        const difference = new Decimal(ours.averageCost).minus(theirs.averageCost).abs();
        if (difference.gt(new Decimal(theirs.averageCost).abs().times(costTolerance)))
          mismatches.push({
            kind: 'position_average_cost',
            instrument,
            local: ours.averageCost,
            broker: theirs.averageCost,
            detail: `average cost of ${where}: ours ${ours.averageCost}, broker ${theirs.averageCost}`,
          });
      }
      continue;
    }
    const kind = oursQuantity.isZero()
      ? 'position_unknown_locally'
      : theirsQuantity.isZero()
        ? 'position_unknown_at_broker'
        : 'position_quantity';
    mismatches.push({
      kind,
      instrument,
      local: oursQuantity.toFixed(),
      broker: theirsQuantity.toFixed(),
      detail: `position ${where}: ours ${oursQuantity.toFixed()}, broker ${theirsQuantity.toFixed()}`,
    });
  }

  // Matched by the broker's identity of the order, never by orderRef: another order carrying one of our
  // intent ids is not ours.
  const brokerOrderIds = new Set(broker.openOrders.map((order) => order.brokerOrderId));
  const localOrderIds = new Set(local.openOrders.map((order) => order.brokerOrderId));
  const localById = new Map(local.openOrders.map((order) => [order.brokerOrderId, order]));
  for (const order of broker.openOrders) {
    const ours = localById.get(order.brokerOrderId);
    if (ours) {
      if (
        !sameTerm(ours.quantity, order.quantity) ||
        !sameTerm(ours.limitPrice, order.limitPrice) ||
        !sameTerm(ours.stopPrice, order.stopPrice)
      ) {
        const terms = (t: OrderTerms) =>
          `${t.quantity ?? '?'}${t.limitPrice ? ` LMT ${t.limitPrice}` : ''}${t.stopPrice ? ` STP ${t.stopPrice}` : ''}`;
        mismatches.push({
          kind: 'open_order_terms',
          instrument: order.instrument,
          local: terms(ours),
          broker: terms(order),
          detail: `open order ${order.brokerOrderId}: ours ${terms(ours)}, broker ${terms(order)}`,
        });
      }
      continue;
    }
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
