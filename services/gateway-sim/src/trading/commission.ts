/**
 * IB-like commissions (IBKR Pro fixed), charged in USD:
 * - forex (IDEALPRO): 0.2 basis points of the trade value, at least USD 2.00 per order;
 * - US stocks: USD 0.005 a share, at least USD 1.00 and at most 1% of the trade value per order.
 * Minimums apply per order, so a partial fill pays only what the order's running total adds: the first fill
 * pays at least the minimum, later fills pay the excess over what was already charged.
 */
export interface CommissionInput {
  secType: 'CASH' | 'STK';
  /** Order totals after this fill. */
  cumulativeQuantity: number;
  cumulativeValueUsd: number;
  /** What earlier fills of the same order already paid. */
  alreadyCharged: number;
}

export const FOREX_RATE = 0.00002;
export const FOREX_MINIMUM_USD = 2;
export const STOCK_PER_SHARE_USD = 0.005;
export const STOCK_MINIMUM_USD = 1;
export const STOCK_MAXIMUM_RATE = 0.01;

export function orderCommissionTotal(secType: 'CASH' | 'STK', quantity: number, valueUsd: number): number {
  if (secType === 'CASH') return Math.max(FOREX_MINIMUM_USD, FOREX_RATE * valueUsd);
  const raw = Math.max(STOCK_MINIMUM_USD, STOCK_PER_SHARE_USD * quantity);
  return Math.min(raw, STOCK_MAXIMUM_RATE * valueUsd);
}

/** This fill's commission in USD, rounded to cents. */
export function fillCommission(input: CommissionInput): number {
  const total = orderCommissionTotal(input.secType, input.cumulativeQuantity, input.cumulativeValueUsd);
  return Math.max(0, Math.round((total - input.alreadyCharged) * 100) / 100);
}
