import { z } from 'zod';

import { InstrumentKey } from './instrument';
import { Timeframe } from './market-data';
import {
  type Brand,
  DecimalString,
  NonNegativeDecimalString,
  PositiveDecimalString,
  SubjectToken,
  Timestamp,
  V1,
} from './primitives';

export type IntentId = Brand<string, 'IntentId'>;

/** Intent ids are 32 lowercase hex chars; they travel to IB as `orderRef`. */
export const IntentIdSchema = z
  .string()
  .regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters')
  .transform((value) => value as IntentId);

export const SleeveName = SubjectToken.max(64);
export const OrderSide = z.enum(['BUY', 'SELL']);
export type OrderSide = z.infer<typeof OrderSide>;
export const OrderType = z.enum(['MKT', 'LMT', 'STP']);
export type OrderType = z.infer<typeof OrderType>;
export const TimeInForce = z.enum(['DAY', 'GTC']);
export type TimeInForce = z.infer<typeof TimeInForce>;

/**
 * What a sleeve wants traded. Its id is derived from (sleeve, instrument, bar time, sequence), so
 * re-processing the same bar yields the same id and every store de-duplicates it.
 */
export const OrderIntent = z
  .object({
    v: V1,
    intentId: IntentIdSchema,
    sleeve: SleeveName,
    instrument: InstrumentKey,
    side: OrderSide,
    quantity: PositiveDecimalString,
    orderType: OrderType,
    limitPrice: PositiveDecimalString.optional(),
    stopPrice: PositiveDecimalString.optional(),
    timeInForce: TimeInForce,
    /** The bar that caused the intent. */
    barTs: Timestamp,
    timeframe: Timeframe,
    /** Position of this intent among those the same bar produced. */
    sequence: z.number().int().nonnegative(),
    /** Price the strategy saw when it decided (for notional risk checks). */
    referencePrice: PositiveDecimalString,
    reason: z.string().max(200).optional(),
    createdAt: Timestamp,
  })
  .strict()
  .refine((intent) => intent.orderType !== 'LMT' || intent.limitPrice !== undefined, {
    message: 'a LMT order needs limitPrice',
    path: ['limitPrice'],
  })
  .refine((intent) => intent.orderType !== 'STP' || intent.stopPrice !== undefined, {
    message: 'a STP order needs stopPrice',
    path: ['stopPrice'],
  });
export type OrderIntent = z.infer<typeof OrderIntent>;

/** The life of an order as execution tracks it. */
export const OrderStatus = z.enum([
  'pending',
  'submitted',
  'partially_filled',
  'filled',
  'cancelled',
  'rejected',
  'inactive',
]);
export type OrderStatus = z.infer<typeof OrderStatus>;

export const TERMINAL_ORDER_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'filled',
  'cancelled',
  'rejected',
  'inactive',
]);

/** One stored transition of an order's state. */
export const OrderEvent = z
  .object({
    v: V1,
    /** Deterministic: the same transition replayed has the same id. */
    eventId: z.string().min(1).max(128),
    intentId: IntentIdSchema.optional(),
    brokerOrderId: z.number().int().nonnegative(),
    permId: z.number().int().nonnegative().optional(),
    sleeve: SleeveName.optional(),
    instrument: InstrumentKey,
    side: OrderSide,
    status: OrderStatus,
    /** IB's own status word (`PreSubmitted`, `Filled`, …) when the transition came from the broker. */
    brokerStatus: z.string().optional(),
    quantity: PositiveDecimalString,
    filledQuantity: NonNegativeDecimalString,
    remainingQuantity: NonNegativeDecimalString,
    averageFillPrice: NonNegativeDecimalString.optional(),
    /** IB error code and text for rejections. */
    errorCode: z.number().int().optional(),
    reason: z.string().optional(),
    ts: Timestamp,
  })
  .strict();
export type OrderEvent = z.infer<typeof OrderEvent>;

/** One execution at the broker, stored once per exec id. */
export const Fill = z
  .object({
    v: V1,
    execId: z.string().min(1),
    intentId: IntentIdSchema.optional(),
    brokerOrderId: z.number().int().nonnegative(),
    permId: z.number().int().nonnegative(),
    sleeve: SleeveName.optional(),
    account: z.string().min(1),
    instrument: InstrumentKey,
    side: OrderSide,
    quantity: PositiveDecimalString,
    price: PositiveDecimalString,
    commission: DecimalString.optional(),
    commissionCurrency: z.string().length(3).optional(),
    realizedPnl: DecimalString.optional(),
    /** Venue time of the execution. */
    ts: Timestamp,
    receivedAt: Timestamp,
  })
  .strict();
export type Fill = z.infer<typeof Fill>;
