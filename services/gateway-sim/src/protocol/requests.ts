/**
 * Decoding of client requests (the frames `@stoqey/ib` and the official clients send) into typed records.
 * Layouts are per server version; numbers that arrive as `""` (how `@stoqey/ib` sends unset values) read as
 * unset. A frame that cannot be read raises RequestDecodeError, which the session answers with error 321.
 */
import { RequestDecodeError } from '../errors';
import type { ContractQuery } from '../market/instruments';
import type { OrderRequest } from '../trading/broker';
import { MinServerVersion, RequestId } from './message-ids';

const UNSET_INT = 2_147_483_647;

export interface ExecutionFilter {
  /** undefined = every client (the filter was empty or 0). */
  clientId: number | undefined;
  account: string;
  /** Executions at or after this time (epoch ms); undefined = no time filter. */
  time: string;
  symbol: string;
  secType: string;
  exchange: string;
  side: string;
}

export type ClientRequest =
  | { type: 'startApi'; clientId: number; optionalCapabilities: string }
  | {
      type: 'reqMktData';
      reqId: number;
      contract: ContractQuery;
      genericTickList: string;
      snapshot: boolean;
      regulatorySnapshot: boolean;
    }
  | { type: 'cancelMktData'; reqId: number }
  | { type: 'placeOrder'; order: OrderRequest; fieldCount: number }
  | { type: 'cancelOrder'; orderId: number }
  | { type: 'reqOpenOrders' }
  | { type: 'reqAllOpenOrders' }
  /** `apiOnly`: only orders placed through the API (not by hand in TWS). */
  | { type: 'reqCompletedOrders'; apiOnly: boolean }
  | { type: 'reqAutoOpenOrders'; autoBind: boolean }
  | { type: 'reqAccountUpdates'; subscribe: boolean; account: string }
  | { type: 'reqExecutions'; reqId: number; filter: ExecutionFilter }
  | { type: 'reqIds'; numIds: number }
  | { type: 'reqContractDetails'; reqId: number; contract: ContractQuery }
  | { type: 'reqManagedAccounts' }
  | {
      type: 'reqHistoricalData';
      reqId: number;
      contract: ContractQuery;
      endDateTime: string;
      barSize: string;
      duration: string;
      useRth: boolean;
      whatToShow: string;
      formatDate: number;
      keepUpToDate: boolean;
    }
  | { type: 'cancelHistoricalData'; reqId: number }
  | { type: 'reqCurrentTime' }
  | {
      type: 'reqRealTimeBars';
      reqId: number;
      contract: ContractQuery;
      barSize: number;
      whatToShow: string;
      useRth: boolean;
    }
  | { type: 'cancelRealTimeBars'; reqId: number }
  | { type: 'reqGlobalCancel' }
  | { type: 'reqMarketDataType'; marketDataType: number }
  | { type: 'reqPositions' }
  | { type: 'cancelPositions' }
  | { type: 'reqAccountSummary'; reqId: number; group: string; tags: string }
  | { type: 'cancelAccountSummary'; reqId: number }
  /** A message id IB knows but the simulator does not implement; `reqId` when the frame has one. */
  | { type: 'unsupported'; messageId: number; reqId: number | undefined }
  | { type: 'unknown'; messageId: number };

export class FieldReader {
  private index = 1;

  constructor(
    private readonly fields: readonly string[],
    private readonly messageId: number,
  ) {}

  get remaining(): number {
    return this.fields.length - this.index;
  }

  str(): string {
    if (this.index >= this.fields.length) {
      throw new RequestDecodeError(
        `message ${this.messageId} ends after ${this.fields.length} fields`,
        this.messageId,
      );
    }
    return this.fields[this.index++]!;
  }

  int(): number {
    const text = this.str().trim();
    if (text === '') return 0;
    const value = Number(text);
    if (!Number.isInteger(value)) {
      throw new RequestDecodeError(
        `message ${this.messageId}: "${text.slice(0, 32)}" is not an integer`,
        this.messageId,
      );
    }
    return value;
  }

  optionalInt(): number | undefined {
    const text = this.str().trim();
    if (text === '') return undefined;
    const value = Number(text);
    if (!Number.isInteger(value)) {
      throw new RequestDecodeError(
        `message ${this.messageId}: "${text.slice(0, 32)}" is not an integer`,
        this.messageId,
      );
    }
    return value === UNSET_INT ? undefined : value;
  }

  /** A double; `""`, IB's max double and Infinity mean unset. Garbage raises. */
  optionalDouble(): number | undefined {
    const text = this.str().trim();
    if (text === '' || /^(1\.7976931348623157e\+?308|infinity)$/i.test(text)) return undefined;
    const value = Number(text.replace(/,/g, ''));
    if (Number.isNaN(value)) {
      throw new RequestDecodeError(
        `message ${this.messageId}: "${text.slice(0, 32)}" is not a number`,
        this.messageId,
      );
    }
    return value;
  }

  /** `1`/`true` → true; `""`, `0` → false. */
  bool(): boolean {
    const text = this.str().trim().toLowerCase();
    return text === '1' || text === 'true';
  }

  optionalBool(): boolean | undefined {
    const text = this.str().trim().toLowerCase();
    if (text === '') return undefined;
    return text === '1' || text === 'true';
  }

  skip(count: number): void {
    for (let i = 0; i < count; i++) this.str();
  }

  /** conId, symbol, secType, lastTradeDateOrContractMonth, strike, right, multiplier, exchange, primaryExch, currency, localSymbol, tradingClass. */
  contract(): ContractQuery {
    const conId = this.optionalInt();
    const symbol = this.str();
    const secType = this.str();
    this.skip(4); // lastTradeDateOrContractMonth, strike, right, multiplier
    const exchange = this.str();
    const primaryExchange = this.str();
    const currency = this.str();
    const localSymbol = this.str();
    const tradingClass = this.str();
    return { conId, symbol, secType, exchange, primaryExchange, currency, localSymbol, tradingClass };
  }

  /** BAG legs (4 fields each) follow the contract when secType is BAG. */
  skipComboLegs(contract: ContractQuery): void {
    if (contract.secType.trim().toUpperCase() !== 'BAG') return;
    const count = this.int();
    this.skip(Math.max(0, Math.min(count, 1000)) * 4);
  }
}

/** Decodes one client frame. The fields include the message id. */
/**
 * Requests the simulator does not serve, with the index of the field that holds their request id (null: the
 * request has none, so its 321 goes to id −1). Read from `@stoqey/ib` 1.6.x's encoder; the layouts are the
 * same at server versions 176 and 193 (reqScannerSubscription dropped its version field at 143, replaceFA
 * appends its reqId from 157).
 */
export const UNSUPPORTED_REQUEST_ID_FIELD: Readonly<Record<number, number | null>> = {
  10: 2, // reqMktDepth: version, reqId
  11: 2, // cancelMktDepth
  12: null, // reqNewsBulletins
  13: null, // cancelNewsBulletins
  14: null, // setServerLogLevel
  18: null, // requestFA
  19: 4, // replaceFA: version, faDataType, xml, reqId
  21: 2, // exerciseOptions
  22: 1, // reqScannerSubscription: reqId, numberOfRows, …
  23: 2, // cancelScannerSubscription
  24: null, // reqScannerParameters
  52: 2, // reqFundamentalData
  53: 2, // cancelFundamentalData
  54: 2, // calculateImpliedVolatility
  55: 2, // calculateOptionPrice
  56: 2, // cancelCalculateImpliedVolatility
  57: 2, // cancelCalculateOptionPrice
  65: null, // verifyRequest
  66: null, // verifyMessage
  67: 2, // queryDisplayGroups
  68: 2, // subscribeToGroupEvents
  69: 2, // updateDisplayGroup
  70: 2, // unsubscribeFromGroupEvents
  72: null, // verifyAndAuthRequest
  73: null, // verifyAndAuthMessage
  74: 2, // reqPositionsMulti
  75: 2, // cancelPositionsMulti
  76: 2, // reqAccountUpdatesMulti
  77: 2, // cancelAccountUpdatesMulti
  78: 1, // reqSecDefOptParams: reqId, underlyingSymbol, …
  79: 1, // reqSoftDollarTiers
  80: null, // reqFamilyCodes
  81: 1, // reqMatchingSymbols
  82: null, // reqMktDepthExchanges
  83: 1, // reqSmartComponents
  84: 1, // reqNewsArticle
  85: null, // reqNewsProviders
  86: 1, // reqHistoricalNews
  87: 1, // reqHeadTimestamp
  88: 1, // reqHistogramData
  89: 1, // cancelHistogramData
  90: 1, // cancelHeadTimestamp
  91: null, // reqMarketRule (its field is a market rule id)
  92: 1, // reqPnL
  93: 1, // cancelPnL
  94: 1, // reqPnLSingle
  95: 1, // cancelPnLSingle
  96: 1, // reqHistoricalTicks
  97: 1, // reqTickByTickData
  98: 1, // cancelTickByTickData
  100: 1, // reqWshMetaData
  101: 1, // cancelWshMetaData
  102: 1, // reqWshEventData
  103: 1, // cancelWshEventData
  104: 1, // reqUserInfo
};

export function decodeRequest(fields: readonly string[], serverVersion: number): ClientRequest {
  const messageId = Number(fields[0]);
  if (!Number.isInteger(messageId)) return { type: 'unknown', messageId: Number.NaN };
  const r = new FieldReader(fields, messageId);
  switch (messageId) {
    case RequestId.startApi: {
      r.int(); // version
      const clientId = r.optionalInt() ?? 0;
      const optionalCapabilities = r.remaining > 0 ? r.str() : '';
      return { type: 'startApi', clientId, optionalCapabilities };
    }
    case RequestId.reqMktData: {
      r.int(); // version
      const reqId = r.int();
      const contract = r.contract();
      r.skipComboLegs(contract);
      if (r.bool()) r.skip(3); // delta-neutral contract
      const genericTickList = r.str();
      const snapshot = r.bool();
      const regulatorySnapshot = r.remaining > 0 ? r.bool() : false;
      return { type: 'reqMktData', reqId, contract, genericTickList, snapshot, regulatorySnapshot };
    }
    case RequestId.cancelMktData:
      r.int();
      return { type: 'cancelMktData', reqId: r.int() };
    case RequestId.placeOrder:
      return { type: 'placeOrder', order: decodePlaceOrder(r), fieldCount: fields.length };
    case RequestId.cancelOrder: {
      if (serverVersion < MinServerVersion.cmeTaggingFields) r.int(); // version, dropped at 192
      return { type: 'cancelOrder', orderId: r.int() };
    }
    case RequestId.reqOpenOrders:
      return { type: 'reqOpenOrders' };
    case RequestId.reqAllOpenOrders:
      return { type: 'reqAllOpenOrders' };
    case RequestId.reqCompletedOrders:
      return { type: 'reqCompletedOrders', apiOnly: r.remaining > 0 ? r.bool() : false };
    case RequestId.reqAutoOpenOrders:
      r.int();
      return { type: 'reqAutoOpenOrders', autoBind: r.bool() };
    case RequestId.reqAccountUpdates: {
      r.int();
      const subscribe = r.bool();
      const account = r.remaining > 0 ? r.str() : '';
      return { type: 'reqAccountUpdates', subscribe, account };
    }
    case RequestId.reqExecutions: {
      r.int();
      const reqId = r.int();
      const clientId = r.optionalInt();
      return {
        type: 'reqExecutions',
        reqId,
        filter: {
          clientId: clientId === 0 ? undefined : clientId,
          account: r.str(),
          time: r.str(),
          symbol: r.str(),
          secType: r.str(),
          exchange: r.str(),
          side: r.str(),
        },
      };
    }
    case RequestId.reqIds:
      r.int();
      return { type: 'reqIds', numIds: r.remaining > 0 ? r.int() : 1 };
    case RequestId.reqContractDetails: {
      r.int();
      const reqId = r.int();
      return { type: 'reqContractDetails', reqId, contract: r.contract() };
    }
    case RequestId.reqManagedAccounts:
      return { type: 'reqManagedAccounts' };
    case RequestId.reqHistoricalData: {
      const reqId = r.int();
      const contract = r.contract();
      r.bool(); // includeExpired
      const endDateTime = r.str();
      const barSize = r.str();
      const duration = r.str();
      const useRth = r.bool();
      const whatToShow = r.str();
      const formatDate = r.int();
      r.skipComboLegs(contract);
      const keepUpToDate = r.remaining > 0 ? r.bool() : false;
      return {
        type: 'reqHistoricalData',
        reqId,
        contract,
        endDateTime,
        barSize,
        duration,
        useRth,
        whatToShow: whatToShow.trim().toUpperCase(),
        formatDate,
        keepUpToDate,
      };
    }
    case RequestId.cancelHistoricalData:
      r.int();
      return { type: 'cancelHistoricalData', reqId: r.int() };
    case RequestId.reqCurrentTime:
      return { type: 'reqCurrentTime' };
    case RequestId.reqRealTimeBars: {
      r.int();
      const reqId = r.int();
      const contract = r.contract();
      const barSize = r.int();
      const whatToShow = r.str().trim().toUpperCase();
      const useRth = r.bool();
      return { type: 'reqRealTimeBars', reqId, contract, barSize, whatToShow, useRth };
    }
    case RequestId.cancelRealTimeBars:
      r.int();
      return { type: 'cancelRealTimeBars', reqId: r.int() };
    case RequestId.reqGlobalCancel:
      return { type: 'reqGlobalCancel' };
    case RequestId.reqMarketDataType:
      r.int();
      return { type: 'reqMarketDataType', marketDataType: r.int() };
    case RequestId.reqPositions:
      return { type: 'reqPositions' };
    case RequestId.cancelPositions:
      return { type: 'cancelPositions' };
    case RequestId.reqAccountSummary: {
      r.int();
      return { type: 'reqAccountSummary', reqId: r.int(), group: r.str(), tags: r.str() };
    }
    case RequestId.cancelAccountSummary:
      r.int();
      return { type: 'cancelAccountSummary', reqId: r.int() };
    default:
      if (Object.hasOwn(UNSUPPORTED_REQUEST_ID_FIELD, messageId)) {
        const field = UNSUPPORTED_REQUEST_ID_FIELD[messageId];
        const candidate = field === null || field === undefined ? Number.NaN : Number(fields[field] ?? '');
        return {
          type: 'unsupported',
          messageId,
          reqId: Number.isInteger(candidate) && candidate >= 0 ? candidate : undefined,
        };
      }
      return { type: 'unknown', messageId };
  }
}

/**
 * placeOrder, read from its head: indices 0–34 are the same at every version ≥145 and hold everything the
 * simulator needs (see docs §4.1). The tail is ignored.
 */
function decodePlaceOrder(r: FieldReader): OrderRequest {
  const orderId = r.int();
  const contract = r.contract();
  r.skip(2); // secIdType, secId
  const action = r.str();
  const quantityText = r.str().trim().replace(/,/g, '');
  const totalQuantity = quantityText === '' ? Number.NaN : Number(quantityText);
  const orderType = r.str();
  const lmtPrice = r.optionalDouble();
  const auxPrice = r.optionalDouble();
  const tif = r.str();
  r.str(); // ocaGroup
  const account = r.str();
  r.skip(2); // openClose, origin
  const orderRef = r.str();
  const transmit = r.optionalBool();
  const parentId = r.optionalInt() ?? 0;
  r.skip(4); // blockOrder, sweepToFill, displaySize, triggerMethod
  const outsideRth = r.bool();
  return {
    orderId,
    contract,
    action,
    totalQuantity,
    orderType,
    lmtPrice,
    auxPrice,
    tif,
    account,
    orderRef,
    transmit,
    parentId,
    outsideRth,
  };
}
