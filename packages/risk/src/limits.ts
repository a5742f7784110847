import { InstrumentKey, toDecimalString } from '@ibstack/contracts';
import Decimal from 'decimal.js';
import { z } from 'zod';

/**
 * A decimal as a configuration file writes it: a YAML/JSON number (`50000`) or a string (`"0.5"`), kept
 * as a decimal string so no float reaches the money path.
 */
export const ConfigDecimal = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return toDecimalString(typeof value === 'string' ? value.trim() : value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a number, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
});

export const PositiveConfigDecimal = ConfigDecimal.refine((value) => new Decimal(value).gt(0), 'must be > 0');

const Percent = ConfigDecimal.refine(
  (value) => new Decimal(value).gt(0) && new Decimal(value).lte(100),
  'must be a percentage in (0, 100]',
);

/**
 * Pre-trade limits. The same shape is parsed by the strategy (per sleeve, applied to the sleeve's own
 * positions) and by execution (applied to the account's positions); the caller says which with `scope`.
 * Percentages are in percent (`5` is 5 %), money in USD.
 */
export const RiskLimits = z
  .object({
    /** Largest absolute position per instrument, in USD notional at the reference price. @default 100000 */
    maxPositionUsd: PositiveConfigDecimal.default('100000'),
    /** Optional per-instrument cap in units (`EURCAD: 60000`), applied on top of `maxPositionUsd`. @default {} */
    maxPositionQuantity: z.record(InstrumentKey, PositiveConfigDecimal).default({}),
    /** Largest single order, in USD notional at the reference price. @default 50000 */
    maxOrderNotionalUsd: PositiveConfigDecimal.default('50000'),
    /** Orders accepted in any rolling 60 s window. @default 10 */
    maxOrdersPerMinute: z.number().int().positive().default(10),
    /** Blocks risk-increasing orders once the day's loss reaches this share of NAV. @default 2 */
    maxDailyLossPct: Percent.default('2'),
    /** Also blocks once the day's loss reaches this many USD; absent means only the percentage applies. */
    maxDailyLossUsd: PositiveConfigDecimal.optional(),
    /** Drawdown from the high-water mark that raises a warning. @default 5 */
    drawdownWarnPct: Percent.default('5'),
    /** Drawdown that blocks risk-increasing orders and switches trading to REDUCING. @default 10 */
    drawdownReducePct: Percent.default('10'),
  })
  .strict()
  .refine((limits) => new Decimal(limits.drawdownWarnPct).lt(limits.drawdownReducePct), {
    message: 'drawdownWarnPct must be below drawdownReducePct',
    path: ['drawdownWarnPct'],
  });
export type RiskLimits = z.output<typeof RiskLimits>;
/** What a configuration file may state; every field has a default. */
export type RiskLimitsInput = z.input<typeof RiskLimits>;

/** The limits with every default applied. */
export const DEFAULT_RISK_LIMITS: RiskLimits = Object.freeze(RiskLimits.parse({}));
