import Decimal from 'decimal.js';

/** Signed change an order makes to a position: + for BUY, − for SELL. */
export function signedQuantity(side: 'BUY' | 'SELL', quantity: Decimal.Value): Decimal {
  const value = new Decimal(quantity);
  return side === 'BUY' ? value : value.neg();
}

/**
 * Whether an order only shrinks a position: the position after it lies between zero and the position
 * before it (closing exactly to flat counts; flipping to the other side does not).
 */
export function isReducing(position: Decimal.Value, side: 'BUY' | 'SELL', quantity: Decimal.Value): boolean {
  const before = new Decimal(position);
  const after = before.add(signedQuantity(side, quantity));
  if (before.isZero()) return false;
  return before.gt(0) ? after.gte(0) && after.lt(before) : after.lte(0) && after.gt(before);
}

/**
 * The largest part of an order that only shrinks the position: the whole order when it reduces, the
 * quantity that closes the position when it would flip, zero when it would grow it. Lets a caller in
 * REDUCING turn "go short" into "close the long" instead of dropping the signal.
 */
export function reducingQuantity(
  position: Decimal.Value,
  side: 'BUY' | 'SELL',
  quantity: Decimal.Value,
): Decimal {
  const before = new Decimal(position);
  const wanted = new Decimal(quantity);
  const opposite = (before.gt(0) && side === 'SELL') || (before.lt(0) && side === 'BUY');
  if (!opposite) return new Decimal(0);
  return Decimal.min(wanted, before.abs());
}
