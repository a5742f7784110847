/**
 * The IB error codes and texts the simulator sends. Texts follow the TWS API message-codes page and
 * texts quoted from real sessions; where IB's exact wording is not known the text says so in the README.
 */
export const IbCode = {
  orderRejectedDuplicateId: 103,
  priceVariation: 110,
  cannotCancel: 161,
  historicalData: 162,
  noSecurityDefinition: 200,
  orderRejected: 201,
  orderCancelled: 202,
  unknownTickerId: 300,
  validation: 321,
  clientIdInUse: 326,
  unsupportedOrderType: 387,
  realTimeQuery: 420,
  zeroSize: 434,
  connectivityLost: 1100,
  connectivityRestoredDataLost: 1101,
  connectivityRestored: 1102,
  marketDataFarmBroken: 2103,
  marketDataFarmOk: 2104,
  historicalFarmBroken: 2105,
  historicalFarmOk: 2106,
  secDefFarmBroken: 2157,
  secDefFarmOk: 2158,
  impliedTimeZone: 2174,
  cancelNotFound: 10147,
  cancelWrongState: 10148,
  competingSession: 10197,
} as const;

export const IbText = {
  competingSession: 'No market data during competing live session',
  duplicateOrderId: 'Duplicate order id',
  priceVariation: 'The price does not conform to the minimum price variation for this contract.',
  noSecurityDefinition: 'No security definition has been found for the request',
  orderRejected: (reason: string) => `Order rejected - reason:${reason}`,
  orderCancelled: 'Order Canceled - reason:',
  unknownTickerId: (id: number) => `Can't find EId with tickerId:${id}`,
  clientIdInUse: 'Unable to connect as the client id is already in use. Retry with a unique client id.',
  unsupportedOrderType: 'Unsupported order type for this exchange and security type.',
  zeroSize: 'The order size cannot be zero.',
  cancelNotFound: (orderId: number) => `OrderId ${orderId} that needs to be cancelled is not found.`,
  cancelWrongState: (orderId: number, state: string) =>
    `OrderId ${orderId} that needs to be cancelled cannot be cancelled, state: ${state}.`,
  historical: (detail: string) => `Historical Market Data Service error message:${detail}`,
  pacingViolation: 'Historical data request pacing violation',
  queryCancelled: (id: number) => `API historical data query cancelled: ${id}`,
  timeLengthExceedMax: 'Time length exceed max.',
  connectivityLost: 'Connectivity between IB and Trader Workstation has been lost.',
  connectivityRestored: 'Connectivity between IB and Trader Workstation has been restored - data maintained.',
  connectivityRestoredDataLost:
    'Connectivity between IB and Trader Workstation has been restored - data lost.',
  validation: (messageId: number, cause: string) =>
    `Error validating request.-'b${messageId}' : cause - ${cause}`,
  impliedTimeZone:
    'Warning: You submitted request with date-time attributes without explicit time zone. Please switch to use yyyymmdd-hh:mm:ss in UTC or use instrument time zone, like US/Eastern. Implied time zone functionality will be removed in the next API release',
} as const;

/** The farm notices a Gateway sends after startApi and after connectivity is restored. */
export const FARM_NOTICES: ReadonlyArray<{ code: number; text: string }> = [
  { code: IbCode.marketDataFarmOk, text: 'Market data farm connection is OK:usfarm.nj' },
  { code: IbCode.marketDataFarmOk, text: 'Market data farm connection is OK:cashfarm' },
  { code: IbCode.marketDataFarmOk, text: 'Market data farm connection is OK:usfarm' },
  { code: IbCode.historicalFarmOk, text: 'HMDS data farm connection is OK:ushmds' },
  { code: IbCode.historicalFarmOk, text: 'HMDS data farm connection is OK:cashhmds' },
  { code: IbCode.secDefFarmOk, text: 'Sec-def data farm connection is OK:secdefnj' },
];

/** What a Gateway says about its farms when its link to IB drops. */
export const FARM_BROKEN_NOTICES: ReadonlyArray<{ code: number; text: string }> = [
  { code: IbCode.marketDataFarmBroken, text: 'Market data farm connection is broken:usfarm' },
  { code: IbCode.marketDataFarmBroken, text: 'Market data farm connection is broken:cashfarm' },
  { code: IbCode.historicalFarmBroken, text: 'HMDS data farm connection is broken:ushmds' },
];
