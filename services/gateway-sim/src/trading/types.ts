/** Order and execution records as the simulated broker keeps them (the read-only views of the public API). */

export const OrderStatus = {
  pendingSubmit: 'PendingSubmit',
  preSubmitted: 'PreSubmitted',
  submitted: 'Submitted',
  filled: 'Filled',
  cancelled: 'Cancelled',
  inactive: 'Inactive',
  pendingCancel: 'PendingCancel',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

export const SUPPORTED_ORDER_TYPES = ['MKT', 'LMT', 'STP'] as const;
export type SimOrderType = (typeof SUPPORTED_ORDER_TYPES)[number];

export interface SimOrder {
  orderId: number;
  /** IB's permanent id: unique and non-zero (`IBApiNext` keys open orders on it). */
  permId: number;
  clientId: number;
  account: string;
  /** Echoed back exactly as sent (the stack puts its intent id here). */
  orderRef: string;
  action: 'BUY' | 'SELL';
  totalQuantity: number;
  orderType: SimOrderType;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  outsideRth: boolean;
  transmit: boolean;
  parentId: number;
  status: OrderStatus;
  filled: number;
  remaining: number;
  avgFillPrice: number;
  lastFillPrice: number;
  /** Instrument key (`EURCAD`, `AAPL`). */
  instrument: string;
  conId: number;
  /** Simulated epoch ms. */
  placedAt: number;
  updatedAt: number;
  /** Why a rejected order was rejected (IB's error text), for status views. */
  rejectReason?: string;
}

export interface SimExecution {
  /** IB format, unique: `0000e0d5.6745a1b2.01.01`. */
  execId: string;
  orderId: number;
  permId: number;
  clientId: number;
  account: string;
  orderRef: string;
  instrument: string;
  conId: number;
  side: 'BOT' | 'SLD';
  shares: number;
  price: number;
  /** Simulated epoch ms. */
  time: number;
  cumQty: number;
  avgPrice: number;
  /** USD. */
  commission: number;
  commissionCurrency: 'USD';
  /** Realized P&L of this fill in USD net of its commission; undefined when it only opened or added. */
  realizedPnl: number | undefined;
  exchange: string;
}

export interface SimPosition {
  instrument: string;
  conId: number;
  quantity: number;
  /** In the instrument's currency, per unit (commissions are not included). */
  averageCost: number;
}

export function isWorking(status: OrderStatus): boolean {
  return (
    status === OrderStatus.preSubmitted ||
    status === OrderStatus.submitted ||
    status === OrderStatus.pendingSubmit ||
    status === OrderStatus.pendingCancel
  );
}

export function isTerminal(status: OrderStatus): boolean {
  return status === OrderStatus.filled || status === OrderStatus.cancelled || status === OrderStatus.inactive;
}
