/** Message ids the client sends (TWS API `OUT_MSG_ID` from the client's point of view). */
export const RequestId = {
  reqMktData: 1,
  cancelMktData: 2,
  placeOrder: 3,
  cancelOrder: 4,
  reqOpenOrders: 5,
  reqAccountUpdates: 6,
  reqExecutions: 7,
  reqIds: 8,
  reqContractDetails: 9,
  reqAutoOpenOrders: 15,
  reqAllOpenOrders: 16,
  reqManagedAccounts: 17,
  reqHistoricalData: 20,
  cancelHistoricalData: 25,
  reqCurrentTime: 49,
  reqRealTimeBars: 50,
  cancelRealTimeBars: 51,
  reqGlobalCancel: 58,
  reqMarketDataType: 59,
  reqPositions: 61,
  reqAccountSummary: 62,
  cancelAccountSummary: 63,
  cancelPositions: 64,
  startApi: 71,
} as const;

/** Message ids the server sends (TWS API `IN_MSG_ID`). */
export const ResponseId = {
  tickPrice: 1,
  tickSize: 2,
  orderStatus: 3,
  error: 4,
  openOrder: 5,
  accountValue: 6,
  portfolioValue: 7,
  accountUpdateTime: 8,
  nextValidId: 9,
  contractData: 10,
  executionData: 11,
  managedAccounts: 15,
  historicalData: 17,
  tickGeneric: 45,
  tickString: 46,
  currentTime: 49,
  realTimeBars: 50,
  contractDataEnd: 52,
  openOrderEnd: 53,
  accountDownloadEnd: 54,
  executionDataEnd: 55,
  tickSnapshotEnd: 57,
  marketDataType: 58,
  commissionReport: 59,
  position: 61,
  positionEnd: 62,
  accountSummary: 63,
  accountSummaryEnd: 64,
  tickReqParams: 81,
  historicalDataUpdate: 90,
} as const;

/** Tick types used by the simulator (TWS API `TickType`). */
export const TickType = {
  bidSize: 0,
  bid: 1,
  ask: 2,
  askSize: 3,
  last: 4,
  lastSize: 5,
  high: 6,
  low: 7,
  volume: 8,
  close: 9,
  open: 14,
  lastTimestamp: 45,
} as const;

/** Server versions the simulator can speak: see docs in README (176 default, 193 for a current Gateway). */
export const SUPPORTED_SERVER_VERSIONS = [176, 193] as const;
export type ServerVersion = (typeof SUPPORTED_SERVER_VERSIONS)[number];

/** Version thresholds (TWS `MIN_SERVER_VER_*`) that change layouts between 176 and 193. */
export const MinServerVersion = {
  faProfileDesupport: 177,
  pendingPriceRevision: 178,
  lastTradeDate: 182,
  customerAccount: 183,
  professionalCustomer: 184,
  bondAccruedInterest: 185,
  ineligibilityReasons: 186,
  rfqFields: 187,
  includeOvernight: 189,
  undoRfqFields: 190,
  cmeTaggingFields: 192,
  cmeTaggingFieldsInOpenOrder: 193,
} as const;
