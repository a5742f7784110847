/**
 * The account: cash per currency, positions, realized P&L and commissions, in a USD base currency.
 *
 * Invariants:
 * - a forex trade moves cash in both currencies (buying 100k EUR.CAD at 1.48 adds 100k EUR and takes 148k
 *   CAD); a stock trade moves USD cash and shares;
 * - commissions are paid in USD cash and counted in realized P&L (so NetLiquidation = initial cash +
 *   RealizedPnL + UnrealizedPnL for USD-quoted instruments);
 * - average cost is in the instrument's currency and excludes commissions; realized P&L is converted to USD
 *   at the rate of the moment it is realized.
 */
import type { SimInstrument } from '../market/instruments';
import type { SimPosition } from './types';

export interface LedgerState {
  cash: Record<string, number>;
  positions: Record<string, { quantity: number; averageCost: number }>;
  realizedPnlUsd: number;
  commissionsUsd: number;
}

export interface TradeInput {
  instrument: SimInstrument;
  /** Signed: positive buys, negative sells. */
  quantity: number;
  price: number;
  commissionUsd: number;
  /** USD per unit of the instrument's currency at the time of the trade. */
  quoteToUsd: number;
}

export interface TradeResult {
  /** Realized P&L in the instrument's currency, before commission; 0 when the trade only opened or added. */
  realized: number;
  closedQuantity: number;
}

/** Quantities are whole units; this keeps sums of floats from drifting off integers. */
function clean(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}

export class Ledger {
  private readonly cash = new Map<string, number>();
  private readonly positions = new Map<string, { quantity: number; averageCost: number }>();
  private realizedPnlUsd = 0;
  private commissionsUsd = 0;

  constructor(initialCashUsd: number) {
    this.cash.set('USD', initialCashUsd);
  }

  static restore(state: LedgerState): Ledger {
    const ledger = new Ledger(0);
    ledger.cash.clear();
    for (const [currency, amount] of Object.entries(state.cash)) ledger.cash.set(currency, amount);
    for (const [key, position] of Object.entries(state.positions)) ledger.positions.set(key, { ...position });
    ledger.realizedPnlUsd = state.realizedPnlUsd;
    ledger.commissionsUsd = state.commissionsUsd;
    return ledger;
  }

  snapshot(): LedgerState {
    return {
      cash: Object.fromEntries(this.cash),
      positions: Object.fromEntries([...this.positions].map(([key, position]) => [key, { ...position }])),
      realizedPnlUsd: this.realizedPnlUsd,
      commissionsUsd: this.commissionsUsd,
    };
  }

  cashBalances(): ReadonlyMap<string, number> {
    return this.cash;
  }

  position(key: string): { quantity: number; averageCost: number } | undefined {
    return this.positions.get(key);
  }

  /** Every instrument ever held, including those now flat (IB lists closed positions for the day too). */
  positionEntries(): Array<[string, { quantity: number; averageCost: number }]> {
    return [...this.positions];
  }

  /** The same, without a copy: for reading in place. */
  positionMap(): ReadonlyMap<string, { readonly quantity: number; readonly averageCost: number }> {
    return this.positions;
  }

  get realizedUsd(): number {
    return this.realizedPnlUsd;
  }

  get commissionsPaidUsd(): number {
    return this.commissionsUsd;
  }

  trade(input: TradeInput): TradeResult {
    const { instrument, quantity, price } = input;
    const current = this.positions.get(instrument.key) ?? { quantity: 0, averageCost: 0 };
    let realized = 0;
    let closedQuantity = 0;
    let newQuantity = clean(current.quantity + quantity);
    let averageCost = current.averageCost;
    if (current.quantity === 0 || Math.sign(current.quantity) === Math.sign(quantity)) {
      averageCost =
        (current.averageCost * Math.abs(current.quantity) + price * Math.abs(quantity)) /
        Math.abs(newQuantity);
    } else {
      closedQuantity = Math.min(Math.abs(quantity), Math.abs(current.quantity));
      realized = (price - current.averageCost) * closedQuantity * Math.sign(current.quantity);
      if (newQuantity === 0) averageCost = 0;
      else if (Math.sign(newQuantity) !== Math.sign(current.quantity)) averageCost = price;
    }
    newQuantity = clean(newQuantity);
    this.positions.set(instrument.key, { quantity: newQuantity, averageCost });
    this.addCash(instrument.currency, -quantity * price);
    if (instrument.secType === 'CASH') this.addCash(instrument.symbol, quantity);
    this.addCash('USD', -input.commissionUsd);
    this.commissionsUsd += input.commissionUsd;
    this.realizedPnlUsd += realized * input.quoteToUsd - input.commissionUsd;
    return { realized, closedQuantity };
  }

  /**
   * A position change no order explains (a transfer, a corporate action, a broker correction): the
   * position moves at the current mark and cash moves the other way, so net liquidation does not jump.
   */
  drift(instrument: SimInstrument, quantity: number, mark: number): void {
    const current = this.positions.get(instrument.key) ?? { quantity: 0, averageCost: 0 };
    const newQuantity = clean(current.quantity + quantity);
    let averageCost = current.averageCost;
    if (newQuantity === 0) averageCost = 0;
    else if (current.quantity === 0 || Math.sign(newQuantity) !== Math.sign(current.quantity))
      averageCost = mark;
    else if (Math.sign(quantity) === Math.sign(current.quantity)) {
      averageCost =
        (current.averageCost * Math.abs(current.quantity) + mark * Math.abs(quantity)) /
        Math.abs(newQuantity);
    }
    this.positions.set(instrument.key, { quantity: newQuantity, averageCost });
    this.addCash(instrument.currency, -quantity * mark);
    if (instrument.secType === 'CASH') this.addCash(instrument.symbol, quantity);
  }

  /** A fault: cash moved by something no trade explains (a fee, a transfer, a broker correction). */
  adjustCash(currency: string, amount: number): void {
    this.addCash(currency, amount);
  }

  /** A fault: the broker's average cost of a position changed without a trade (a corporate action). */
  setAverageCost(key: string, averageCost: number): void {
    const current = this.positions.get(key);
    if (current) this.positions.set(key, { ...current, averageCost });
  }

  private addCash(currency: string, amount: number): void {
    this.cash.set(currency, (this.cash.get(currency) ?? 0) + amount);
  }
}

export const MARGIN_RATES = {
  CASH: { initial: 0.03, maintenance: 0.025 },
  STK: { initial: 0.25, maintenance: 0.25 },
} as const;

export interface Valuation {
  /** USD per unit of a currency. */
  toUsd(currency: string): number;
  /** Mark price (mid) of an instrument, in its currency. */
  mark(instrument: SimInstrument): number;
  instrument(key: string): SimInstrument;
}

export interface AccountFigures {
  netLiquidation: number;
  totalCashValue: number;
  stockMarketValue: number;
  grossPositionValue: number;
  unrealizedPnl: number;
  realizedPnl: number;
  initialMargin: number;
  maintenanceMargin: number;
  availableFunds: number;
  excessLiquidity: number;
  buyingPower: number;
  cashByCurrency: Record<string, number>;
  positions: Array<
    SimPosition & { marketPrice: number; marketValue: number; unrealizedPnl: number; realizedPnl: number }
  >;
}

/** Account figures in USD at current marks. Pure: the same ledger and marks give the same numbers. */
export function accountFigures(
  ledger: Ledger,
  valuation: Valuation,
  /** Per instrument, net of commissions, in the instrument's currency. */
  realizedByInstrument: ReadonlyMap<string, number>,
  /** False for the totals alone: `cashByCurrency` and `positions` stay empty (the margin check). @default true */
  detail = true,
): AccountFigures {
  let totalCashValue = 0;
  const cashByCurrency: Record<string, number> = {};
  for (const [currency, amount] of ledger.cashBalances()) {
    if (detail) cashByCurrency[currency] = amount;
    totalCashValue += amount * valuation.toUsd(currency);
  }
  let stockMarketValue = 0;
  let grossPositionValue = 0;
  let unrealizedPnl = 0;
  let initialMargin = 0;
  let maintenanceMargin = 0;
  const positions: AccountFigures['positions'] = [];
  for (const [key, position] of ledger.positionMap()) {
    const instrument = valuation.instrument(key);
    const mark = valuation.mark(instrument);
    const toUsd = valuation.toUsd(instrument.currency);
    const marketValue = position.quantity * mark;
    const positionUnrealized = (mark - position.averageCost) * position.quantity;
    const exposureUsd = Math.abs(marketValue * toUsd);
    if (instrument.secType === 'STK') {
      stockMarketValue += marketValue * toUsd;
      grossPositionValue += exposureUsd;
    }
    unrealizedPnl += positionUnrealized * toUsd;
    initialMargin += exposureUsd * MARGIN_RATES[instrument.secType].initial;
    maintenanceMargin += exposureUsd * MARGIN_RATES[instrument.secType].maintenance;
    if (detail)
      positions.push({
        instrument: key,
        conId: instrument.conId,
        quantity: position.quantity,
        averageCost: position.averageCost,
        marketPrice: mark,
        marketValue,
        unrealizedPnl: positionUnrealized,
        realizedPnl: realizedByInstrument.get(key) ?? 0,
      });
  }
  const netLiquidation = totalCashValue + stockMarketValue;
  const availableFunds = netLiquidation - initialMargin;
  return {
    netLiquidation,
    totalCashValue,
    stockMarketValue,
    grossPositionValue,
    unrealizedPnl,
    realizedPnl: ledger.realizedUsd,
    initialMargin,
    maintenanceMargin,
    availableFunds,
    excessLiquidity: netLiquidation - maintenanceMargin,
    // A Reg T margin account: four times the available funds, never negative.
    buyingPower: Math.max(0, availableFunds * 4),
    cashByCurrency,
    positions,
  };
}
