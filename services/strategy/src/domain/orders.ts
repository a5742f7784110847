import type { InstrumentKey, OrderSide } from '@ibstack/contracts';
import type { FxRatesToUsd } from '@ibstack/risk';
import Decimal from 'decimal.js';

import type { ParsedDecision } from '../sdk';
import { orderToTarget, type SizingRules, targetQuantity } from './sizing';

/** An order a sleeve wants, before risk. */
export interface CandidateOrder {
  instrument: InstrumentKey;
  currency: string;
  side: OrderSide;
  quantity: string;
  orderType: 'MKT' | 'LMT';
  limitPrice?: string;
  referencePrice: string;
  reason?: string;
}

export interface SleeveView {
  capitalUsd: string;
  sizing: SizingRules;
  /** Quote currency by instrument key. */
  currencyOf(instrument: InstrumentKey): string;
  /** Latest price, or undefined if none is known yet. */
  priceOf(instrument: InstrumentKey): string | undefined;
  /** Filled position plus quantity in flight (signed). */
  exposureOf(instrument: InstrumentKey): Decimal;
}

/**
 * Turns a strategy's decisions into orders. A target is sized from the sleeve's capital and ordered as the
 * difference to what the sleeve holds and has in flight; decisions in one batch see each other, so
 * "target 1" twice in a row orders once.
 */
export function ordersFromDecisions(
  decisions: readonly ParsedDecision[],
  view: SleeveView,
  rates: FxRatesToUsd,
): { orders: CandidateOrder[]; notes: string[] } {
  const orders: CandidateOrder[] = [];
  const notes: string[] = [];
  const planned = new Map<InstrumentKey, Decimal>();
  for (const decision of decisions) {
    const price = view.priceOf(decision.instrument);
    if (price === undefined) {
      notes.push(`no price for ${decision.instrument} yet; decision ignored`);
      continue;
    }
    const currency = view.currencyOf(decision.instrument);
    let side: OrderSide;
    let quantity: Decimal;
    if (decision.type === 'target') {
      const target = targetQuantity({
        weight: typeof decision.weight === 'number' ? withoutFloatNoise(decision.weight) : decision.weight,
        capitalUsd: view.capitalUsd,
        price,
        currency,
        rates,
        quantityStep: view.sizing.quantityStep,
      });
      const exposure = view.exposureOf(decision.instrument).add(planned.get(decision.instrument) ?? 0);
      const order = orderToTarget(target, exposure, view.sizing);
      if (!order) continue;
      ({ side, quantity } = order);
    } else {
      side = decision.side;
      quantity = new Decimal(decision.quantity);
    }
    const signed = side === 'BUY' ? quantity : quantity.neg();
    planned.set(decision.instrument, (planned.get(decision.instrument) ?? new Decimal(0)).add(signed));
    orders.push({
      instrument: decision.instrument,
      currency,
      side,
      quantity: quantity.toFixed(),
      orderType: decision.type === 'order' ? decision.orderType : 'MKT',
      ...(decision.type === 'order' && decision.limitPrice !== undefined
        ? { limitPrice: decision.limitPrice }
        : {}),
      referencePrice: price,
      ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
    });
  }
  return { orders, notes };
}

/**
 * A weight a strategy worked out in floating point, as the decimal it stands for: its 15 significant digits,
 * which every double carries exactly. The digits past them are the arithmetic's noise (0.3 − 0.1 is
 * 0.19999999999999998), and sizing rounds toward zero to the step: kept, the noise cost a whole step.
 */
function withoutFloatNoise(weight: number): number {
  // Most weights are 1, 0 or −1.
  return Number.isInteger(weight) ? weight : Number(weight.toPrecision(15));
}
