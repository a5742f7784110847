import type { Logger } from '@ibstack/observability';

import type { SimClock } from '../clock';
import type { InstrumentTable } from '../market/instruments';
import type { QuoteBook } from '../market/quotes';
import type { MarketSchedule } from '../market/trading-hours';
import type { GatewaySimMetrics } from '../metrics';
import type { Broker } from '../trading/broker';
import type { Session } from './session';
import type { Timeline } from './timeline';

/** The sessions that finished startApi, by client id. */
export interface SessionDirectory {
  ready(): Session[];
  byClientId(clientId: number): Session | undefined;
}

/** What the request handlers share. */
export interface GatewayContext {
  readonly clock: SimClock;
  readonly instruments: InstrumentTable;
  readonly book: QuoteBook;
  readonly schedule: MarketSchedule;
  readonly broker: Broker;
  readonly sessions: SessionDirectory;
  readonly log: Logger;
  readonly metrics: GatewaySimMetrics;
  /** Send and receive times for latency measurements. */
  readonly timeline: Timeline;
  /** False while the simulated link to IB is down (daily reset): no market data flows. */
  brokerLinkUp(): boolean;
  /** True while another login holds the market-data lines (IB answers market-data requests with 10197). */
  competingSession(): boolean;
}
