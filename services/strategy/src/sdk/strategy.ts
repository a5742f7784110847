import type { Bar, Instrument, InstrumentKey, OrderSide, Tick, Timeframe } from '@ibstack/contracts';
import { InstrumentKey as InstrumentKeySchema, OrderSide as OrderSideSchema } from '@ibstack/contracts';
import Decimal from 'decimal.js';
import { z } from 'zod';

/**
 * The strategy SDK. A strategy is a pure module: it receives bars (and optionally ticks and fills), keeps
 * its own state, and returns decisions. It never touches I/O or the wall clock, so the same code runs
 * live, in warm-up and in a backtest.
 */

/** An instrument of a sleeve: its key (`EURCAD`), the spec it was configured with, and its contract. */
export interface SleeveInstrument {
  readonly key: InstrumentKey;
  readonly spec: string;
  readonly instrument: Instrument;
}

export interface StrategySetup<P> {
  readonly sleeve: string;
  readonly instruments: readonly SleeveInstrument[];
  readonly timeframe: Timeframe;
  /** Parameters already validated by the strategy's schema, defaults applied. */
  readonly parameters: P;
}

export interface StrategyContext {
  /** Engine clock, epoch ms (the bar's processing time; in a backtest, simulated time). */
  readonly now: number;
  /**
   * True while history from Postgres is replayed to bring indicators up to date. Decisions returned
   * during warm-up are ignored, so a strategy may return them as usual.
   */
  readonly warmingUp: boolean;
  /** The sleeve's signed filled position in an instrument (decimal string; "0" when flat). */
  position(instrument: InstrumentKey): string;
}

const Weight = z.union([z.number(), z.string()]).refine((value) => {
  try {
    const weight = new Decimal(value);
    return weight.isFinite() && weight.abs().lte(1);
  } catch {
    return false;
  }
}, 'weight must be a number between -1 and 1');

/**
 * "Hold this much": a signed share of the sleeve's capital (`1` all long, `-1` all short, `0` flat). The
 * engine sizes it and orders the difference to the position plus the orders still in flight.
 */
export const TargetDecision = z
  .object({
    type: z.literal('target'),
    instrument: InstrumentKeySchema,
    weight: Weight,
    reason: z.string().max(200).optional(),
  })
  .strict();
export type TargetDecision = z.infer<typeof TargetDecision>;

/** "Trade this": an explicit order, sent as it is (after risk). */
export const OrderDecision = z
  .object({
    type: z.literal('order'),
    instrument: InstrumentKeySchema,
    side: OrderSideSchema,
    quantity: z.string().regex(/^\d+(\.\d+)?$/, 'quantity must be a positive decimal string'),
    orderType: z.enum(['MKT', 'LMT']).default('MKT'),
    limitPrice: z
      .string()
      .regex(/^\d+(\.\d+)?$/)
      .optional(),
    reason: z.string().max(200).optional(),
  })
  .strict()
  .refine((order) => new Decimal(order.quantity).gt(0), {
    message: 'quantity must be > 0',
    path: ['quantity'],
  })
  .refine((order) => order.orderType !== 'LMT' || order.limitPrice !== undefined, {
    message: 'a LMT order needs limitPrice',
    path: ['limitPrice'],
  })
  // An intent's limit price must be > 0: one of zero could be stored, but never published.
  .refine((order) => order.limitPrice === undefined || !/^[0.]*$/.test(order.limitPrice), {
    message: 'limit price must be > 0',
    path: ['limitPrice'],
  });
export type OrderDecision = z.input<typeof OrderDecision>;

export const Decision = z.union([TargetDecision, OrderDecision]);
export type Decision = TargetDecision | OrderDecision;
export type ParsedDecision = z.output<typeof Decision>;

/** A fill of one of the sleeve's orders, as the strategy sees it. */
export interface StrategyFill {
  readonly instrument: InstrumentKey;
  readonly side: OrderSide;
  readonly quantity: string;
  readonly price: string;
  readonly intentId?: string;
  readonly ts: string;
}

export type Decisions = readonly Decision[] | void;

/** One running instance of a strategy, for one sleeve. */
export interface Strategy {
  onBar(bar: Bar, context: StrategyContext): Decisions;
  onTick?(tick: Tick, context: StrategyContext): Decisions;
  onFill?(fill: StrategyFill, context: StrategyContext): void;
  /** Indicator values and state, for logs, the status route and tests. */
  inspect?(): Record<string, unknown>;
}

export interface StrategyDefinition<S extends z.ZodType = z.ZodType> {
  /** The name sleeves refer to (`ma-crossover`). */
  readonly name: string;
  readonly description: string;
  /** Parameter schema; give every field a default and make it `.strict()` so typos are errors. */
  readonly parameters: S;
  /** Bars of history (per instrument) that bring the strategy to the state an uninterrupted run has. */
  warmupBars(parameters: z.output<S>, timeframe: Timeframe): number;
  create(setup: StrategySetup<z.output<S>>): Strategy;
}

/** Identity helper that keeps the parameter type flowing from the schema into `create` and `warmupBars`. */
export function defineStrategy<S extends z.ZodType>(
  definition: StrategyDefinition<S>,
): StrategyDefinition<S> {
  return definition;
}

/** Strategies by name. */
export type StrategyRegistry = ReadonlyMap<string, StrategyDefinition>;

export function strategyRegistry(definitions: readonly StrategyDefinition[]): StrategyRegistry {
  return new Map(definitions.map((definition) => [definition.name, definition]));
}

/** A bar's prices as numbers, for indicator libraries (signals only; money stays decimal). */
export function barPrices(bar: Bar): { open: number; high: number; low: number; close: number } {
  return { open: Number(bar.open), high: Number(bar.high), low: Number(bar.low), close: Number(bar.close) };
}
