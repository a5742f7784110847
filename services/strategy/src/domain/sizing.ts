import type { OrderSide } from '@ibstack/contracts';
import { type FxRatesToUsd, toUsd } from '@ibstack/risk';
import Decimal from 'decimal.js';

export interface SizingRules {
  /** Quantities are multiples of this (1 share, 1 000 units of a currency pair). */
  quantityStep: string;
  /** Differences smaller than this are not worth an order. */
  minQuantity: string;
}

export interface TargetInput {
  weight: Decimal.Value;
  capitalUsd: string;
  price: string;
  currency: string;
  rates: FxRatesToUsd;
  quantityStep: string;
}

/**
 * The signed quantity that holds `weight` of `capitalUsd` at `price` (quoted in `currency`), rounded
 * toward zero to the quantity step so sizing never overshoots the allocation.
 *
 * Worked out in floating point when that gives the decimal result for certain (see `fastTargetSteps`),
 * else in decimal: the same value either way.
 */
export function targetQuantity(input: TargetInput): Decimal {
  const steps = fastTargetSteps(input);
  if (steps !== undefined) {
    const step = Number(input.quantityStep);
    const quantity = steps * step;
    // An integer step and an integer count of steps: the product is exact while it is a safe integer.
    if (Number.isInteger(step) && Number.isSafeInteger(quantity)) return new Decimal(quantity);
    return new Decimal(steps).mul(input.quantityStep);
  }
  return exactTargetQuantity(input);
}

/** The decimal computation `targetQuantity` stands for. */
export function exactTargetQuantity(input: TargetInput): Decimal {
  const unitUsd = toUsd(input.price, input.currency, input.rates);
  const raw = new Decimal(input.capitalUsd).mul(input.weight).div(unitUsd);
  const step = new Decimal(input.quantityStep);
  return raw.div(step).trunc().mul(step);
}

/**
 * How far (relative to the count of steps, at least 1) a floating-point count of steps must be from a
 * whole number for its truncation to be certain. Each of the six parses and operations below errs by at
 * most 2⁻⁵³ (1.1e-16) relative and decimal.js's 20 digits by far less, so the float count is within
 * 1e-15 of the exact one: a margin of 1e-9 leaves a million times that.
 */
const STEP_MARGIN = 1e-9;
const MAX_STEPS = 2 ** 40;
/** A number as both `Number()` and decimal.js read it alike: sign, digits, point, exponent. */
const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * The whole number of steps (`trunc(capital × weight / (price × rate) / step)`) in floating point, or
 * undefined when it could differ from the decimal one (too close to a whole number, out of range, or an
 * input that is not a plain finite number: those take the decimal path, which also throws for a missing
 * rate).
 */
export function fastTargetSteps(input: TargetInput): number | undefined {
  const rate = input.rates[input.currency.toUpperCase()];
  if (rate === undefined) return undefined;
  const { weight: weightValue } = input;
  let weight: number;
  if (typeof weightValue === 'number') weight = weightValue;
  else if (typeof weightValue === 'string' && PLAIN_NUMBER.test(weightValue)) weight = Number(weightValue);
  else return undefined;
  // Number() reads more forms than decimal.js (spaces, for one): only plain numbers take this path.
  if (
    !PLAIN_NUMBER.test(input.price) ||
    !PLAIN_NUMBER.test(rate) ||
    !PLAIN_NUMBER.test(input.capitalUsd) ||
    !PLAIN_NUMBER.test(input.quantityStep)
  )
    return undefined;
  const unitUsd = Number(input.price) * Number(rate);
  const step = Number(input.quantityStep);
  const steps = (Number(input.capitalUsd) * weight) / unitUsd / step;
  if (!(unitUsd > 0) || !(step > 0) || !Number.isFinite(steps) || Math.abs(steps) >= MAX_STEPS)
    return undefined;
  // Nothing to hold (a weight of 0): zero, with the sign decimal.js gives it.
  if (steps === 0 && (weight === 0 || Number(input.capitalUsd) === 0)) return steps;
  const nearest = Math.round(steps);
  if (Math.abs(steps - nearest) <= STEP_MARGIN * Math.max(1, Math.abs(steps))) return undefined;
  return Math.trunc(steps);
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
