/**
 * Rebuilding a fill IB no longer lists. `reqExecutions` reports only the executions since the gateway's
 * midnight, so a fill made before it that we never stored (execution was disconnected) is gone from
 * there; what IB still reports is its order's filled quantity (`reqCompletedOrders`) and the position.
 * Pure: `(what we stored, what the broker still says) → the missing fill, or why it cannot be rebuilt`.
 *
 * Invariants:
 * - the rebuilt quantity is exactly what the broker says was filled minus what we stored; nothing is
 *   rebuilt when we stored as much or more;
 * - its exec id is a function of the broker's perm id and filled quantity, so a second recovery that
 *   sees the same completed order rebuilds the same id (stored once, keyed on it);
 * - its price is the best the broker still tells, and says where it came from: the order's average fill
 *   price when a status reported it, else the broker position's average cost when this fill alone
 *   explains the position's change, else the limit price (a bound, not the price); with none of them the
 *   fill is not rebuilt, and the position check halts.
 */
import Decimal from 'decimal.js';
import type { OrderSide } from '@ibstack/contracts';

/** Exec ids of rebuilt fills start with this; IB's never do (they are hex groups). */
export const RECONSTRUCTED_EXEC_ID_PREFIX = 'reconstructed.';

/**
 * The deterministic exec id of a rebuilt fill: perm id and the broker's cumulative filled quantity. Ends in
 * `.01` like an IB id, so the correction logic (same text up to the last dot) sees it as its own group.
 */
export function reconstructedExecId(permId: number, brokerFilledQuantity: string): string {
  return `${RECONSTRUCTED_EXEC_ID_PREFIX}${permId}-${new Decimal(brokerFilledQuantity).toFixed()}.01`;
}

export function isReconstructedExecId(execId: string): boolean {
  return execId.startsWith(RECONSTRUCTED_EXEC_ID_PREFIX);
}

export type PriceSource = 'order_average_fill_price' | 'position_average_cost' | 'limit_price';

export interface ReconstructionInput {
  side: OrderSide;
  /** `LMT`, `MKT`, `STP`. */
  orderType: string;
  limitPrice: string | null;
  /** What the broker says this order filled (completed order's `filledQuantity`). */
  brokerFilledQuantity: string;
  /** Sum of the quantities of the fills we stored for the order. */
  storedQuantity: string;
  /** Sum of quantity × price of those fills. */
  storedValue: string;
  /** The order's cumulative filled quantity and average price from its last status, if one reported them. */
  statusFilledQuantity: string | null;
  statusAverageFillPrice: string | null;
  /** Our position in the instrument (before this fill) and the broker's, with average costs. */
  position: {
    localQuantity: string;
    localAverageCost: string;
    brokerQuantity: string;
    brokerAverageCost: string;
  } | null;
}

export type Reconstruction =
  | { kind: 'nothing_missing' }
  | { kind: 'rebuilt'; quantity: string; price: string; priceSource: PriceSource }
  | { kind: 'no_price'; quantity: string; reason: string };

export function reconstructFill(input: ReconstructionInput): Reconstruction {
  const missing = new Decimal(input.brokerFilledQuantity).minus(input.storedQuantity);
  if (missing.lte(0)) return { kind: 'nothing_missing' };
  const quantity = missing.toFixed();
  const rebuilt = (price: Decimal, priceSource: PriceSource): Reconstruction => ({
    kind: 'rebuilt',
    quantity,
    price: price.toDecimalPlaces(10).toFixed(),
    priceSource,
  });

  // A status reported the average over every fill: what the missing part must have cost.
  if (
    input.statusAverageFillPrice !== null &&
    input.statusFilledQuantity !== null &&
    new Decimal(input.statusFilledQuantity).eq(input.brokerFilledQuantity) &&
    new Decimal(input.statusAverageFillPrice).gt(0)
  ) {
    const price = new Decimal(input.statusAverageFillPrice)
      .times(input.statusFilledQuantity)
      .minus(input.storedValue)
      .div(missing);
    if (price.gt(0)) return rebuilt(price, 'order_average_fill_price');
  }

  // The broker's position moved by exactly this fill and only grew: its average cost tells the price.
  if (input.position) {
    const signed = input.side === 'BUY' ? missing : missing.neg();
    const before = new Decimal(input.position.localQuantity);
    const after = new Decimal(input.position.brokerQuantity);
    const grew =
      before.isZero() || (before.isPositive() === after.isPositive() && after.abs().gt(before.abs()));
    if (after.minus(before).eq(signed) && grew) {
      const price = after
        .times(input.position.brokerAverageCost)
        .minus(before.times(input.position.localAverageCost))
        .div(signed);
      if (price.gt(0)) return rebuilt(price, 'position_average_cost');
    }
  }

  if (input.orderType === 'LMT' && input.limitPrice !== null && new Decimal(input.limitPrice).gt(0))
    return rebuilt(new Decimal(input.limitPrice), 'limit_price');

  return {
    kind: 'no_price',
    quantity,
    reason:
      'no status reported an average fill price, the position does not isolate this fill, and it had no limit price',
  };
}
