/**
 * Encoding of server messages as `@stoqey/ib` 1.6.x decodes them at server versions 176 and 193. Every
 * builder returns the field list of one frame (message id first); `encodeFrame` adds the framing. The field
 * counts are checked against the client's own decoder in the tests.
 */
import type { SimInstrument } from '../market/instruments';
import type { SimExecution, SimOrder } from '../trading/types';
import type { Field } from './framing';
import { MinServerVersion, ResponseId } from './message-ids';

/** What IB sends for an unset double. */
export const UNSET_DOUBLE = '1.7976931348623157E308';
export const UNSET_INT = '2147483647';

/** A double as IB prints it: no exponent for ordinary prices, unset as IB's max double. */
export function formatDouble(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return UNSET_DOUBLE;
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(15)));
}

/** Money as IB's account messages show it: two decimals. */
export function formatMoney(value: number): string {
  return (Math.round(value * 100) / 100).toFixed(2);
}

/** Sizes are decimals at these versions; unset is the empty string. */
export function formatSize(value: number | undefined): string {
  if (value === undefined) return '';
  return String(Number(value.toPrecision(15)));
}

export function managedAccounts(accounts: readonly string[]): Field[] {
  return [ResponseId.managedAccounts, 1, accounts.join(',')];
}

export function nextValidId(orderId: number): Field[] {
  return [ResponseId.nextValidId, 1, orderId];
}

/** Error or notice; id −1 for connection-wide notices. The advanced-reject JSON is empty. */
export function errorMessage(id: number, code: number, message: string): Field[] {
  // The client decodes \uXXXX escapes; a NUL inside the text would split the frame, so it never gets one.
  return [ResponseId.error, 2, id, code, message.replace(/\0/g, ' '), ''];
}

export function currentTime(epochSeconds: number): Field[] {
  return [ResponseId.currentTime, 1, epochSeconds];
}

export function tickPrice(
  reqId: number,
  tickType: number,
  price: number,
  size: number | undefined,
  canAutoExecute: boolean,
): Field[] {
  return [
    ResponseId.tickPrice,
    6,
    reqId,
    tickType,
    formatDouble(price),
    formatSize(size),
    canAutoExecute ? 1 : 0,
  ];
}

export function tickSize(reqId: number, tickType: number, size: number): Field[] {
  return [ResponseId.tickSize, 6, reqId, tickType, formatSize(size)];
}

export function tickString(reqId: number, tickType: number, value: string): Field[] {
  return [ResponseId.tickString, 6, reqId, tickType, value];
}

export function tickSnapshotEnd(reqId: number): Field[] {
  return [ResponseId.tickSnapshotEnd, 1, reqId];
}

export function marketDataType(reqId: number, type: number): Field[] {
  return [ResponseId.marketDataType, 1, reqId, type];
}

export function tickReqParams(
  reqId: number,
  minTick: number,
  bboExchange: string,
  snapshotPermissions: number,
): Field[] {
  return [ResponseId.tickReqParams, reqId, formatDouble(minTick), bboExchange, snapshotPermissions];
}

export interface BarFields {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  wap: number;
  count: number;
}

export function realTimeBar(reqId: number, epochSeconds: number, bar: BarFields): Field[] {
  return [
    ResponseId.realTimeBars,
    3,
    reqId,
    epochSeconds,
    formatDouble(bar.open),
    formatDouble(bar.high),
    formatDouble(bar.low),
    formatDouble(bar.close),
    formatSize(bar.volume),
    formatSize(bar.wap),
    bar.count,
  ];
}

export function historicalData(
  reqId: number,
  startText: string,
  endText: string,
  bars: ReadonlyArray<BarFields & { label: string }>,
): Field[] {
  const fields: Field[] = [ResponseId.historicalData, reqId, startText, endText, bars.length];
  for (const bar of bars) {
    fields.push(
      bar.label,
      formatDouble(bar.open),
      formatDouble(bar.high),
      formatDouble(bar.low),
      formatDouble(bar.close),
      formatSize(bar.volume),
      formatSize(bar.wap),
      bar.count,
    );
  }
  return fields;
}

/** keepUpToDate update: note IB's order open, close, high, low, then wap before volume. */
export function historicalDataUpdate(reqId: number, bar: BarFields & { label: string }): Field[] {
  return [
    ResponseId.historicalDataUpdate,
    reqId,
    bar.count,
    bar.label,
    formatDouble(bar.open),
    formatDouble(bar.close),
    formatDouble(bar.high),
    formatDouble(bar.low),
    formatSize(bar.wap),
    formatSize(bar.volume),
  ];
}

export function contractDetails(
  serverVersion: number,
  reqId: number,
  instrument: SimInstrument,
  hours: { tradingHours: string; liquidHours: string },
): Field[] {
  const fields: Field[] = [ResponseId.contractData, reqId, instrument.symbol, instrument.secType, ''];
  if (serverVersion >= MinServerVersion.lastTradeDate) fields.push('');
  fields.push(
    '0', // strike
    '', // right
    instrument.exchange,
    instrument.currency,
    instrument.localSymbol,
    instrument.marketName,
    instrument.tradingClass,
    instrument.conId,
    formatDouble(instrument.minTick),
    '', // multiplier
    instrument.orderTypes,
    instrument.validExchanges,
    1, // priceMagnifier
    0, // underConId
    instrument.longName,
    instrument.primaryExchange,
    '', // contractMonth
    instrument.industry,
    instrument.category,
    instrument.subcategory,
    instrument.timeZoneId,
    hours.tradingHours,
    hours.liquidHours,
    '', // evRule
    '', // evMultiplier
    instrument.secIds.length,
  );
  for (const secId of instrument.secIds) fields.push(secId.tag, secId.value);
  fields.push(
    instrument.aggGroup,
    '', // underSymbol
    '', // underSecType
    instrument.marketRuleIds,
    '', // realExpirationDate
    instrument.stockType,
    formatSize(instrument.minSize),
    formatSize(instrument.sizeIncrement),
    formatSize(instrument.suggestedSizeIncrement),
  );
  if (serverVersion >= MinServerVersion.ineligibilityReasons) fields.push(0);
  return fields;
}

export function contractDetailsEnd(reqId: number): Field[] {
  return [ResponseId.contractDataEnd, 1, reqId];
}

/** Which message an order's fields go into: the client's OrderDecoder reads them a little differently. */
type OrderMessage = 'open' | 'completed';

/**
 * The contract and the order's terms, from the contract's fields to `solicited`, as `@stoqey/ib`'s
 * OrderDecoder reads them for both openOrder and completedOrder: the two read the same groups in the same
 * order, except for the fields marked open-only below (an open order's client id, share allocation, auction
 * strategy, block order, parent id, basis points, …), which completedOrder skips.
 */
function orderFields(
  message: OrderMessage,
  serverVersion: number,
  order: SimOrder,
  instrument: SimInstrument,
): Field[] {
  const open = message === 'open';
  const isMarket = order.orderType === 'MKT';
  const fields: Field[] = [
    // Contract.
    instrument.conId,
    instrument.symbol,
    instrument.secType,
    '',
    '0',
    '',
    '',
    instrument.exchange,
    instrument.currency,
    instrument.localSymbol,
    instrument.tradingClass,
    // Order.
    order.action,
    formatSize(order.totalQuantity),
    order.orderType,
  ];
  // An open order's unset prices are zeros; a completed one's are left empty (decoded as undefined).
  if (open)
    fields.push(isMarket ? '0' : formatDouble(order.lmtPrice ?? 0), formatDouble(order.auxPrice ?? 0));
  else
    fields.push(
      isMarket ? '' : formatDouble(order.lmtPrice ?? 0),
      order.auxPrice === undefined ? '' : formatDouble(order.auxPrice),
    );
  fields.push(
    order.tif,
    '', // ocaGroup
    order.account,
    '', // openClose
    0, // origin (customer)
    order.orderRef,
  );
  if (open) fields.push(order.clientId);
  fields.push(
    order.permId,
    order.outsideRth ? 1 : 0,
    0, // hidden
    '0', // discretionaryAmt
    '', // goodAfterTime
  );
  if (open) fields.push(`${order.permId}.0/${order.account}/100`); // sharesAllocation (ignored by clients)
  fields.push(
    '', // faGroup
    '', // faMethod
    '', // faPercentage
  );
  // completedOrder is decoded as the newest order version, which has no faProfile at any server version.
  if (open && serverVersion < MinServerVersion.faProfileDesupport) fields.push(''); // faProfile
  fields.push(
    '', // modelCode
    '', // goodTillDate
    '0', // rule80A
    '', // percentOffset
    '', // settlingFirm
    0, // shortSaleSlot
    '', // designatedLocation
    -1, // exemptCode
  );
  if (open) fields.push(0); // auctionStrategy
  fields.push(
    '', // startingPrice
    '', // stockRefPrice
    '', // delta
    '', // stockRangeLower
    '', // stockRangeUpper
    UNSET_INT, // displaySize
  );
  if (open) fields.push(0); // blockOrder
  fields.push(
    0, // sweepToFill
    0, // allOrNone
    '', // minQty
    3, // ocaType
  );
  if (open)
    fields.push(
      0, // eTradeOnly
      0, // firmQuoteOnly
      '', // nbboPriceCap
      order.parentId,
    );
  fields.push(
    0, // triggerMethod
    '', // volatility
    0, // volatilityType
    '', // deltaNeutralOrderType (empty: no delta-neutral fields follow)
    '', // deltaNeutralAuxPrice
    0, // continuousUpdate
    0, // referencePriceType
    '', // trailStopPrice
    '', // trailingPercent
  );
  if (open)
    fields.push(
      '', // basisPoints
      '', // basisPointsType
    );
  fields.push(
    '', // comboLegsDescription
    0, // comboLegsCount
    0, // orderComboLegsCount
    0, // smartComboRoutingParamsCount
    UNSET_INT, // scaleInitLevelSize
    UNSET_INT, // scaleSubsLevelSize
    '', // scalePriceIncrement
    '', // hedgeType
  );
  if (open) fields.push(0); // optOutSmartRouting
  fields.push(
    '', // clearingAccount
    'IB', // clearingIntent
    0, // notHeld
    0, // deltaNeutralContract present
    '', // algoStrategy
    0, // solicited
  );
  return fields;
}

/** What both messages end with: the pegged-to-best/mid attributes and the newer versions' account fields. */
function orderTail(serverVersion: number): Field[] {
  const fields: Field[] = [
    '', // minTradeQty
    '', // minCompeteSize
    '', // competeAgainstBestOffset
    '', // midOffsetAtWhole
    '', // midOffsetAtHalf
  ];
  if (serverVersion >= MinServerVersion.customerAccount) fields.push(''); // customerAccount
  if (serverVersion >= MinServerVersion.professionalCustomer) fields.push(0); // professionalCustomer
  return fields;
}

/** openOrder at version ≥145 (no version field), mirroring the client's OrderDecoder read by read. */
export function openOrder(serverVersion: number, order: SimOrder, instrument: SimInstrument): Field[] {
  const fields: Field[] = [
    ResponseId.openOrder,
    order.orderId,
    ...orderFields('open', serverVersion, order, instrument),
    0, // whatIf
    order.status,
    UNSET_DOUBLE, // initMarginBefore
    UNSET_DOUBLE, // maintMarginBefore
    UNSET_DOUBLE, // equityWithLoanBefore
    UNSET_DOUBLE, // initMarginChange
    UNSET_DOUBLE, // maintMarginChange
    UNSET_DOUBLE, // equityWithLoanChange
    UNSET_DOUBLE, // initMarginAfter
    UNSET_DOUBLE, // maintMarginAfter
    UNSET_DOUBLE, // equityWithLoanAfter
    '', // commission
    '', // minCommission
    '', // maxCommission
    '', // commissionCurrency
    '', // warningText
    0, // randomizeSize
    0, // randomizePrice
    0, // conditions count
    'None', // adjustedOrderType
    UNSET_DOUBLE, // triggerPrice
    UNSET_DOUBLE, // trailStopPrice
    UNSET_DOUBLE, // lmtPriceOffset
    UNSET_DOUBLE, // adjustedStopPrice
    UNSET_DOUBLE, // adjustedStopLimitPrice
    UNSET_DOUBLE, // adjustedTrailingAmount
    0, // adjustableTrailingUnit
    '', // softDollarTier name
    '', // softDollarTier value
    '', // softDollarTier displayName
    '0', // cashQty
    1, // dontUseAutoPriceForHedge
    0, // isOmsContainer
    0, // discretionaryUpToLimitPrice
    0, // usePriceMgmtAlgo
    '', // duration
    '', // postToAts
    0, // autoCancelParent
    ...orderTail(serverVersion),
  ];
  if (serverVersion >= MinServerVersion.bondAccruedInterest) fields.push('');
  if (serverVersion >= MinServerVersion.includeOvernight) fields.push(0);
  if (serverVersion >= MinServerVersion.cmeTaggingFieldsInOpenOrder) fields.push('', UNSET_INT);
  return fields;
}

/**
 * A finished order (reqCompletedOrders): its terms, `filledQuantity` and when and how it ended. The fields
 * follow `@stoqey/ib`'s `decodeMsg_COMPLETED_ORDER` (no order id, no client id; IB sends no average fill
 * price either: only the executions carry prices).
 */
export function completedOrder(
  serverVersion: number,
  order: SimOrder,
  instrument: SimInstrument,
  completedTime: string,
): Field[] {
  return [
    ResponseId.completedOrder,
    ...orderFields('completed', serverVersion, order, instrument),
    order.status,
    0, // randomizeSize
    0, // randomizePrice
    0, // conditions count
    '', // trailStopPrice
    '', // lmtPriceOffset
    '', // cashQty
    0, // dontUseAutoPriceForHedge
    0, // isOmsContainer
    '', // autoCancelDate
    formatSize(order.filled),
    0, // refFuturesConId
    0, // autoCancelParent
    '', // shareholder
    0, // imbalanceOnly
    0, // routeMarketableToBbo
    0, // parentPermId
    completedTime,
    order.status === 'Filled' ? 'Filled' : (order.rejectReason ?? 'Cancelled by Trader'),
    ...orderTail(serverVersion),
  ];
}

export function completedOrdersEnd(): Field[] {
  return [ResponseId.completedOrdersEnd];
}

export function orderStatus(order: SimOrder, whyHeld = ''): Field[] {
  return [
    ResponseId.orderStatus,
    order.orderId,
    order.status,
    formatSize(order.filled),
    formatSize(order.remaining),
    formatDouble(order.avgFillPrice),
    order.permId,
    order.parentId,
    formatDouble(order.lastFillPrice),
    order.clientId,
    whyHeld,
    '0', // mktCapPrice
  ];
}

export function openOrderEnd(): Field[] {
  return [ResponseId.openOrderEnd, 1];
}

export function executionDetails(
  serverVersion: number,
  reqId: number,
  execution: SimExecution,
  instrument: SimInstrument,
  timeText: string,
): Field[] {
  const fields: Field[] = [
    ResponseId.executionData,
    reqId,
    execution.orderId,
    instrument.conId,
    instrument.symbol,
    instrument.secType,
    '', // lastTradeDateOrContractMonth
    '0', // strike
    '', // right
    '', // multiplier
    execution.exchange,
    instrument.currency,
    instrument.localSymbol,
    instrument.tradingClass,
    execution.execId,
    timeText,
    execution.account,
    execution.exchange,
    execution.side,
    formatSize(execution.shares),
    formatDouble(execution.price),
    execution.permId,
    execution.clientId,
    0, // liquidation
    formatSize(execution.cumQty),
    formatDouble(execution.avgPrice),
    execution.orderRef,
    '', // evRule
    '', // evMultiplier
    '', // modelCode
    2, // lastLiquidity: removed liquidity (the simulator's fills take the top of book)
  ];
  if (serverVersion >= MinServerVersion.pendingPriceRevision) fields.push(0);
  return fields;
}

export function executionDetailsEnd(reqId: number): Field[] {
  return [ResponseId.executionDataEnd, 1, reqId];
}

export function commissionReport(execution: SimExecution): Field[] {
  return [
    ResponseId.commissionReport,
    1,
    execution.execId,
    formatDouble(execution.commission),
    execution.commissionCurrency,
    formatDouble(execution.realizedPnl),
    UNSET_DOUBLE, // yield
    '', // yieldRedemptionDate
  ];
}

export function position(
  account: string,
  instrument: SimInstrument,
  quantity: number,
  averageCost: number,
): Field[] {
  return [
    ResponseId.position,
    3,
    account,
    instrument.conId,
    instrument.symbol,
    instrument.secType,
    '',
    '0',
    '',
    '',
    instrument.secType === 'CASH' ? instrument.exchange : '',
    instrument.currency,
    instrument.localSymbol,
    instrument.tradingClass,
    formatSize(quantity),
    formatDouble(averageCost),
  ];
}

export function positionEnd(): Field[] {
  return [ResponseId.positionEnd, 1];
}

export function accountSummary(
  reqId: number,
  account: string,
  tag: string,
  value: string,
  currency: string,
): Field[] {
  return [ResponseId.accountSummary, 1, reqId, account, tag, value, currency];
}

export function accountSummaryEnd(reqId: number): Field[] {
  return [ResponseId.accountSummaryEnd, 1, reqId];
}

export function accountValue(key: string, value: string, currency: string, account: string): Field[] {
  return [ResponseId.accountValue, 2, key, value, currency, account];
}

export function portfolioValue(
  instrument: SimInstrument,
  values: {
    quantity: number;
    marketPrice: number;
    marketValue: number;
    averageCost: number;
    unrealizedPnl: number;
    realizedPnl: number;
  },
  account: string,
): Field[] {
  return [
    ResponseId.portfolioValue,
    8,
    instrument.conId,
    instrument.symbol,
    instrument.secType,
    '',
    '0',
    '',
    '',
    instrument.primaryExchange,
    instrument.currency,
    instrument.localSymbol,
    instrument.tradingClass,
    formatSize(values.quantity),
    formatDouble(values.marketPrice),
    formatMoney(values.marketValue),
    formatDouble(values.averageCost),
    formatMoney(values.unrealizedPnl),
    formatMoney(values.realizedPnl),
    account,
  ];
}

export function accountUpdateTime(text: string): Field[] {
  return [ResponseId.accountUpdateTime, 1, text];
}

export function accountDownloadEnd(account: string): Field[] {
  return [ResponseId.accountDownloadEnd, 1, account];
}
