/**
 * Position, cost and realized P&L from fills. Pure and exact (decimal.js).
 *
 * The position keeps its cost basis (what the open quantity cost in total) rather than an average
 * price, because an average is a division that repeats (35000 / 30000) and would leave dust in the
 * realized P&L when the position is closed. The average cost is derived for display and storage.
 *
 * Invariants: quantity is signed (short < 0); cost basis is 0 when flat; realized P&L accumulates only
 * on the closing part of a fill; closing the whole position removes the whole cost basis exactly; a fill
 * that flips the position closes the old side and opens the rest at the fill price.
 */
import Decimal from 'decimal.js';
import type { OrderSide } from '@ibstack/contracts';

export interface PositionState {
  quantity: string;
  /** Total cost of the open quantity (always >= 0). */
  costBasis: string;
  realizedPnl: string;
}

export const FLAT: PositionState = { quantity: '0', costBasis: '0', realizedPnl: '0' };

export function signedQuantity(side: OrderSide, quantity: string | Decimal): Decimal {
  const amount = new Decimal(quantity);
  return side === 'BUY' ? amount : amount.neg();
}

/** Average price of the open quantity, rounded to 10 places (0 when flat). */
export function averageCost(position: PositionState): string {
  const quantity = new Decimal(position.quantity).abs();
  if (quantity.isZero()) return '0';
  return new Decimal(position.costBasis).div(quantity).toDecimalPlaces(10).toFixed();
}

export function applyFill(
  position: PositionState,
  fill: { side: OrderSide; quantity: string; price: string },
): PositionState {
  const held = new Decimal(position.quantity);
  const cost = new Decimal(position.costBasis);
  const delta = signedQuantity(fill.side, fill.quantity);
  const price = new Decimal(fill.price);
  const realized = new Decimal(position.realizedPnl);
  const next = held.plus(delta);

  if (held.isZero() || held.isNegative() === delta.isNegative()) {
    return {
      quantity: next.toFixed(),
      costBasis: cost.plus(delta.abs().times(price)).toFixed(),
      realizedPnl: realized.toFixed(),
    };
  }
  const closing = Decimal.min(held.abs(), delta.abs());
  const closedCost = closing.eq(held.abs()) ? cost : cost.times(closing).div(held.abs());
  const proceeds = closing.times(price);
  // Long: sell proceeds minus cost. Short: cost (what the short sold for) minus buy-back proceeds.
  const pnl = held.isPositive() ? proceeds.minus(closedCost) : closedCost.minus(proceeds);
  const remainingCost = cost.minus(closedCost);
  if (next.isZero()) return { quantity: '0', costBasis: '0', realizedPnl: realized.plus(pnl).toFixed() };
  if (next.isNegative() === held.isNegative()) {
    return {
      quantity: next.toFixed(),
      costBasis: remainingCost.toFixed(),
      realizedPnl: realized.plus(pnl).toFixed(),
    };
  }
  return {
    quantity: next.toFixed(),
    costBasis: next.abs().times(price).toFixed(),
    realizedPnl: realized.plus(pnl).toFixed(),
  };
}
