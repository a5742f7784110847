/**
 * The checks IB applies to an order before accepting it, as a pure function: the first problem found, with
 * IB's code and text, or undefined when the order is acceptable.
 */
import type { SimInstrument } from '../market/instruments';
import { IbCode, IbText } from '../protocol/ib-errors';
import type { OrderRequest } from './broker';
import { SUPPORTED_ORDER_TYPES } from './types';

export interface OrderProblem {
  code: number;
  message: string;
}

const rejected = (reason: string): OrderProblem => ({
  code: IbCode.orderRejected,
  message: IbText.orderRejected(reason),
});

export function validateOrder(
  request: OrderRequest,
  instrument: SimInstrument,
  account: string,
): OrderProblem | undefined {
  const action = request.action.toUpperCase();
  if (action !== 'BUY' && action !== 'SELL') return rejected(`Invalid action "${request.action}"`);
  const quantity = request.totalQuantity;
  if (!Number.isFinite(quantity)) return rejected('Invalid order size');
  if (quantity === 0) return { code: IbCode.zeroSize, message: IbText.zeroSize };
  if (quantity < 0) return rejected('Order size must be positive');
  const increments = quantity / instrument.sizeIncrement;
  if (Math.abs(increments - Math.round(increments)) > 1e-9 || quantity < instrument.minSize) {
    return rejected(`The order size must be a multiple of the size increment ${instrument.sizeIncrement}`);
  }
  const type = request.orderType.toUpperCase();
  if (!(SUPPORTED_ORDER_TYPES as readonly string[]).includes(type)) {
    return { code: IbCode.unsupportedOrderType, message: IbText.unsupportedOrderType };
  }
  const tif = request.tif.toUpperCase() || 'DAY';
  if (!['DAY', 'GTC', 'IOC'].includes(tif)) return rejected(`Invalid time in force "${request.tif}"`);
  if (request.account && request.account !== account) return rejected(`Invalid account ${request.account}`);
  if (type === 'MKT') return undefined;
  const price = type === 'LMT' ? request.lmtPrice : request.auxPrice;
  if (price === undefined || !(price > 0) || !Number.isFinite(price)) {
    return rejected(`${type} order requires a ${type === 'LMT' ? 'limit' : 'stop'} price`);
  }
  const ticks = price / instrument.minTick;
  if (Math.abs(ticks - Math.round(ticks)) > 1e-6)
    return { code: IbCode.priceVariation, message: IbText.priceVariation };
  return undefined;
}
