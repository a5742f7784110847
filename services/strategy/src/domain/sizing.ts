import type { OrderSide } from '@ibstack/contracts';
import { type FxRatesToUsd, toUsd } from '@ibstack/risk';
import Decimal from 'decimal.js';

export interface SizingRules {
  /** Quantities are multiples of this (1 share, 1 000 units of a currency pair). */
  quantityStep: string;
  /** Differences smaller than this are not worth an order. */
  minQuantity: string;
}

/**
 * The signed quantity that holds `weight` of `capitalUsd` at `price` (quoted in `currency`), rounded
 * toward zero to the quantity step so sizing never overshoots the allocation.
 */
export function targetQuantity(input: {
  weight: Decimal.Value;
  capitalUsd: string;
  price: string;
  currency: string;
  rates: FxRatesToUsd;
  quantityStep: string;
}): Decimal {
  const unitUsd = toUsd(input.price, input.currency, input.rates);
  const raw = new Decimal(input.capitalUsd).mul(input.weight).div(unitUsd);
  const step = new Decimal(input.quantityStep);
  return raw.div(step).trunc().mul(step);
}

/** The order that moves `current` (position plus orders in flight) to `target`, or null if too small. */
export function orderToTarget(
  target: Decimal,
  current: Decimal,
  rules: SizingRules,
): { side: OrderSide; quantity: Decimal } | null {
  const delta = target.sub(current);
  if (delta.abs().lt(rules.minQuantity) || delta.isZero()) return null;
  return { side: delta.gt(0) ? 'BUY' : 'SELL', quantity: delta.abs() };
}
