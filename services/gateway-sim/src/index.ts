export { startGatewaySim, type GatewaySim, type GatewaySimOptions, type Quote } from './gateway-sim';
export type { SimExecution, SimOrder, SimPosition, OrderStatus } from './trading/types';
export { BUILT_IN_INSTRUMENTS, type SimInstrument } from './market/instruments';
export { createSimClock, type SimClock } from './clock';
export * from './errors';
export { gatewaySimEnv, type GatewaySimConfig, toGatewaySimOptions } from './config';
export type { BarSent, OrderReceived } from './server/timeline';
// The matching engine alone, for running it in process (the backtest): the same fills and commissions.
export {
  Broker,
  type BrokerEvent,
  type BrokerOptions,
  type FillDecision,
  type OrderRequest,
} from './trading/broker';
export { orderCommissionTotal } from './trading/commission';
// How the account values read on the wire (cents), for the backtest's account snapshots.
export { formatMoney } from './protocol/responses';
export { InstrumentTable, type ContractQuery } from './market/instruments';
export { MarketSchedule, type MarketHoursMode } from './market/trading-hours';
export { type Quote as MarketQuote, type QuoteSource, roundToTick } from './market/quotes';
