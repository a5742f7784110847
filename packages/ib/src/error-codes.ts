/**
 * IB error and notice codes, classified by number (never by message text, which IB changes and
 * localises). Sources: the TWS API message-codes page and `@stoqey/ib`'s ErrorCode.
 */
export const IbErrorKind = {
  connectivityLost: 'connectivity_lost',
  connectivityRestoredDataLost: 'connectivity_restored_data_lost',
  connectivityRestored: 'connectivity_restored',
  farmOk: 'farm_ok',
  farmBroken: 'farm_broken',
  farmInactive: 'farm_inactive',
  notConnected: 'not_connected',
  clientIdInUse: 'client_id_in_use',
  connectFailed: 'connect_failed',
  unsupportedVersion: 'unsupported_version',
  decodeError: 'decode_error',
  orderRejected: 'order_rejected',
  orderCancelled: 'order_cancelled',
  duplicateOrderId: 'duplicate_order_id',
  cancelRejected: 'cancel_rejected',
  noSecurityDefinition: 'no_security_definition',
  historicalDataError: 'historical_data_error',
  marketDataNotSubscribed: 'market_data_not_subscribed',
  unknownRequest: 'unknown_request',
  warning: 'warning',
  other: 'other',
} as const;
export type IbErrorKind = (typeof IbErrorKind)[keyof typeof IbErrorKind];

export type IbSeverity = 'info' | 'warning' | 'error' | 'critical';

export interface ClassifiedIbError {
  code: number;
  kind: IbErrorKind;
  severity: IbSeverity;
  /** The id the error refers to (an order id or a request id); -1 for connection-wide notices. */
  requestId: number;
  message: string;
  /** True for codes that say the link to IB (not just to the gateway) is down or back. */
  connectivity: boolean;
}

/** Codes that refuse a new order (or an order's terms). */
const ORDER_REJECT_CODES = new Set([
  103, // handled separately: duplicate order id
  110, // price does not conform to the minimum price variation
  116,
  117,
  118, // invalid order / contract for the exchange
  201, // order rejected - reason
  203, // security not available or allowed for this account
  321, // error validating request (missing exchange, invalid size…)
  382,
  383, // size exceeds limits
  387,
  388, // unsupported order type / size below minimum
  434, // order size cannot be zero
  460, // no trading permissions
]);

/** Codes that refuse a request about an existing order (cancel, modify): the order itself lives on. */
const REQUEST_REFUSED_CODES = new Set([
  104, // can't modify a filled order
  105, // order being modified does not match original
  135, // can't find order with id
  136, // order cannot be cancelled
  161, // cancel attempted when order is not in a cancellable state
  10147, // order to cancel not found
  10148, // order cannot be cancelled in its state
]);

const KIND_BY_CODE: ReadonlyMap<number, { kind: IbErrorKind; severity: IbSeverity; connectivity?: boolean }> =
  new Map([
    [1100, { kind: IbErrorKind.connectivityLost, severity: 'critical', connectivity: true }],
    [2110, { kind: IbErrorKind.connectivityLost, severity: 'critical', connectivity: true }],
    [1101, { kind: IbErrorKind.connectivityRestoredDataLost, severity: 'warning', connectivity: true }],
    [1102, { kind: IbErrorKind.connectivityRestored, severity: 'info', connectivity: true }],
    [2104, { kind: IbErrorKind.farmOk, severity: 'info' }],
    [2106, { kind: IbErrorKind.farmOk, severity: 'info' }],
    [2158, { kind: IbErrorKind.farmOk, severity: 'info' }],
    [2119, { kind: IbErrorKind.farmOk, severity: 'info' }],
    [2103, { kind: IbErrorKind.farmBroken, severity: 'warning' }],
    [2105, { kind: IbErrorKind.farmBroken, severity: 'warning' }],
    [2157, { kind: IbErrorKind.farmBroken, severity: 'warning' }],
    [2107, { kind: IbErrorKind.farmInactive, severity: 'info' }],
    [2108, { kind: IbErrorKind.farmInactive, severity: 'info' }],
    [504, { kind: IbErrorKind.notConnected, severity: 'error' }],
    [326, { kind: IbErrorKind.clientIdInUse, severity: 'critical' }],
    [502, { kind: IbErrorKind.connectFailed, severity: 'error' }],
    [506, { kind: IbErrorKind.unsupportedVersion, severity: 'critical' }],
    [505, { kind: IbErrorKind.decodeError, severity: 'error' }],
    [507, { kind: IbErrorKind.decodeError, severity: 'error' }],
    [103, { kind: IbErrorKind.duplicateOrderId, severity: 'error' }],
    [202, { kind: IbErrorKind.orderCancelled, severity: 'info' }],
    [200, { kind: IbErrorKind.noSecurityDefinition, severity: 'error' }],
    [162, { kind: IbErrorKind.historicalDataError, severity: 'error' }],
    [165, { kind: IbErrorKind.historicalDataError, severity: 'info' }],
    [166, { kind: IbErrorKind.historicalDataError, severity: 'error' }],
    [366, { kind: IbErrorKind.historicalDataError, severity: 'warning' }],
    [420, { kind: IbErrorKind.historicalDataError, severity: 'error' }],
    [354, { kind: IbErrorKind.marketDataNotSubscribed, severity: 'error' }],
    [10167, { kind: IbErrorKind.marketDataNotSubscribed, severity: 'warning' }],
    [10168, { kind: IbErrorKind.marketDataNotSubscribed, severity: 'error' }],
    [300, { kind: IbErrorKind.unknownRequest, severity: 'warning' }],
    [399, { kind: IbErrorKind.warning, severity: 'warning' }],
  ]);

export function classifyIbError(code: number, requestId: number, message: string): ClassifiedIbError {
  const known = KIND_BY_CODE.get(code);
  if (known)
    return {
      code,
      requestId,
      message,
      kind: known.kind,
      severity: known.severity,
      connectivity: known.connectivity ?? false,
    };
  if (REQUEST_REFUSED_CODES.has(code)) {
    return {
      code,
      requestId,
      message,
      kind: IbErrorKind.cancelRejected,
      severity: 'warning',
      connectivity: false,
    };
  }
  if (ORDER_REJECT_CODES.has(code)) {
    return {
      code,
      requestId,
      message,
      kind: IbErrorKind.orderRejected,
      severity: 'error',
      connectivity: false,
    };
  }
  // IB's own rule: 2100–2999 are warnings and notices.
  if (code >= 2100 && code < 3000) {
    return { code, requestId, message, kind: IbErrorKind.warning, severity: 'warning', connectivity: false };
  }
  return { code, requestId, message, kind: IbErrorKind.other, severity: 'error', connectivity: false };
}

/** Whether an error ends an order's life at the broker (a definitive reject, not a timeout or a notice). */
export function isOrderRejection(error: ClassifiedIbError): boolean {
  return error.kind === IbErrorKind.orderRejected || error.kind === IbErrorKind.duplicateOrderId;
}

/** Kinds about the connection itself: a gateway restart produces them by the dozen and is not an API failure. */
const CONNECTION_KINDS: ReadonlySet<IbErrorKind> = new Set([
  IbErrorKind.connectivityLost,
  IbErrorKind.connectivityRestored,
  IbErrorKind.connectivityRestoredDataLost,
  IbErrorKind.farmOk,
  IbErrorKind.farmBroken,
  IbErrorKind.farmInactive,
  IbErrorKind.notConnected,
  IbErrorKind.clientIdInUse,
  IbErrorKind.connectFailed,
  IbErrorKind.unsupportedVersion,
]);

/**
 * Errors that count toward the execution service's error circuit: real failures of requests on a live
 * session, not notices and not the connection going up and down (reconnects have their own metrics).
 */
export function countsAsApiError(error: ClassifiedIbError): boolean {
  return (error.severity === 'error' || error.severity === 'critical') && !CONNECTION_KINDS.has(error.kind);
}

/** IB's code for a historical-data request that failed, or that found nothing. */
export const IB_HISTORICAL_DATA_CODE = 162;

/**
 * IB answers an empty historical window ("HMDS query returned no data") with the code of a refusal (162)
 * and says which only in the text: the one message we read, so this one code is told apart here.
 */
export function isNoHistoricalDataAnswer(code: number, message: string): boolean {
  return code === IB_HISTORICAL_DATA_CODE && /HMDS query returned no data/i.test(message);
}
