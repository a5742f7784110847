import Decimal from 'decimal.js';
import { z } from 'zod';

/** Every message carries `v` so a shape can evolve; consumers reject versions they do not know. */
export const V1 = z.literal(1);

const DECIMAL_PATTERN = /^-?\d+(\.\d+)?$/;

/**
 * A decimal number as a string (`"1.48235"`, `"-20000"`): money, prices and quantities never travel as
 * floats. No exponents, no `NaN`, no `Infinity`.
 */
export const DecimalString = z.string().regex(DECIMAL_PATTERN, 'must be a decimal number like "1.2345"');
export type DecimalString = z.infer<typeof DecimalString>;

// zod runs a refinement even after the pattern failed, so each one checks the pattern itself: a value like
// "LMT" must be an invalid field, not a DecimalError thrown out of safeParse.
export const PositiveDecimalString = DecimalString.refine(
  (value) => !DECIMAL_PATTERN.test(value) || new Decimal(value).gt(0),
  'must be > 0',
);
export const NonNegativeDecimalString = DecimalString.refine(
  (value) => !DECIMAL_PATTERN.test(value) || new Decimal(value).gte(0),
  'must be >= 0',
);

/** An ISO-8601 instant in UTC with milliseconds (`2026-11-24T10:00:00.000Z`), as `Date#toISOString()` gives. */
export const Timestamp = z.iso.datetime({ precision: 3 });
export type Timestamp = z.infer<typeof Timestamp>;

/** Names that become a NATS subject token: no dots, spaces or wildcards. */
export const SubjectToken = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, "_" or "-"');

/**
 * Converts a number that came from the broker (a JS double) to a decimal string without exponent or
 * float noise beyond what the double itself carries. Throws on NaN or ±Infinity, which never belong on
 * the wire.
 */
export function toDecimalString(value: number | string | Decimal): DecimalString {
  const decimal = new Decimal(value);
  if (!decimal.isFinite()) throw new RangeError(`not a finite number: ${String(value)}`);
  return decimal.toFixed();
}

export function nowIso(clock: () => number = Date.now): Timestamp {
  return new Date(clock()).toISOString();
}

/** A branded id (`IntentId`) cannot be passed where a plain string or another kind of id is expected. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
