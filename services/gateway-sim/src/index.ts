export { startGatewaySim, type GatewaySim, type GatewaySimOptions, type Quote } from './gateway-sim';
export type { SimExecution, SimOrder, SimPosition, OrderStatus } from './trading/types';
export { BUILT_IN_INSTRUMENTS, type SimInstrument } from './market/instruments';
export { createSimClock, type SimClock } from './clock';
export * from './errors';
export { gatewaySimEnv, type GatewaySimConfig, toGatewaySimOptions } from './config';
export type { BarSent, OrderReceived } from './server/timeline';
