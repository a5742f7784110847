/**
 * `startGatewaySim`: builds the simulated IB Gateway (clock, prices, broker, API listener, optional
 * health/metrics/admin HTTP server) and returns its programmatic handle. Both `main.ts` and the tests boot
 * it through here, so they run the same wiring.
 */
import { appendFileSync } from 'node:fs';

import { DateTime } from 'luxon';

import {
  createLogger,
  createRegistry,
  type Logger,
  type Registry,
  startHealthServer,
  type HealthServer,
} from '@ibstack/observability';

import { createSimClock, type SimClock } from './clock';
import { UnknownInstrumentError } from './errors';
import { CsvPrices } from './market/csv-prices';
import { InstrumentTable } from './market/instruments';
import { HistoricalPacing } from './market/pacing';
import { QuoteBook } from './market/quotes';
import { MarketSchedule } from './market/trading-hours';
import { gatewaySimMetrics } from './metrics';
import { SUPPORTED_SERVER_VERSIONS } from './protocol/message-ids';
import { adminRoutes } from './server/admin-routes';
import { Gateway } from './server/gateway';
import { type ExecutionWindow, executionWindowStart } from './server/orders';
import { TcpListener } from './server/tcp-listener';
import { Broker, type BrokerEvent, type TransmitMode } from './trading/broker';
import { type BarSent, type OrderReceived, Timeline } from './server/timeline';
import { clockFileOf, loadClock, saveClock } from './trading/clock-file';
import { loadState, saveState, StateWriter } from './trading/state-file';
import type { SimExecution, SimOrder } from './trading/types';

export interface GatewaySimOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** TWS API port; 0 picks a free port. @default 4002 */
  port?: number;
  /** Port of /healthz, /readyz, /metrics, /status and /admin/…; undefined = no HTTP server. */
  httpPort?: number;
  /** The server version announced in the handshake. @default 176 */
  serverVersion?: 176 | 193;
  /** Seed of the price walk (and of ids): the same seed gives the same prices. @default 42 */
  seed?: number;
  /** Simulated seconds per wall second. @default 1 */
  speed?: number;
  /** Simulated clock start, epoch ms or ISO 8601. @default now */
  startTime?: number | string;
  /** `forex`: IB's hours (forex closed Friday 17:00 – Sunday 17:00 New York; stocks 04:00–20:00 weekdays). @default 'forex' */
  marketHours?: 'forex' | 'always-open';
  /** The paper account the Gateway manages. @default 'DU1234567' */
  account?: string;
  /** Further accounts the login manages (managedAccounts lists them after `account`); they hold only drifted positions. */
  extraAccounts?: string[];
  /** Starting cash in USD. @default 1_000_000 */
  initialCash?: number;
  /** JSON file keeping orders, executions, the account and order ids across restarts. */
  stateFile?: string;
  /** `strict`: an order whose transmit flag is unset is held untransmitted, as a real Gateway does. @default 'strict' */
  transmitMode?: 'strict' | 'lenient';
  /** IB's historical-data pacing rules. @default true */
  pacing?: boolean;
  /** Replay prices from this CSV instead of the random walk (see README for the format). */
  csvFile?: string;
  logger?: Logger;
  registry?: Registry;
  /** Wall ms between market-data/matching ticks. @default 100 */
  tickIntervalMs?: number;
  /**
   * Outbound bytes (order, account, error messages) a session may queue during a stall; a session that
   * would exceed it is closed, as a Gateway whose buffers overflow drops the connection. @default 4 MiB
   */
  stallBacklogBytes?: number;
  /**
   * A connection that has not sent its handshake and startApi within this many wall ms is closed, so a
   * port scanner or a client stuck mid-handshake holds no session for ever. @default 30000
   */
  handshakeTimeoutMs?: number;
  /** Quote updates per subscription per tick (1 = only the latest second). Raise it to stream every second. @default 1 */
  maxQuoteUpdatesPerInterval?: number;
  /**
   * Login faults also write the log lines IBGA prints in that situation to this file (appended), so the
   * gateway supervisor's log watching is tested against the simulator. Unset: no file.
   */
  ibgaLogFile?: string;
  /**
   * The gateway's local time zone (IBGA: IB_TIMEZONE). Its midnight is IB's execution cut-off, and
   * execution times are written in it (`yyyyMMdd  HH:mm:ss`; in UTC `yyyyMMdd-HH:mm:ss`). @default 'UTC'
   */
  timeZone?: string;
  /**
   * What `reqExecutions` reaches back to: `since-midnight` (IB Gateway: only the executions since the
   * gateway's last local midnight) or `unlimited` (every execution of the last 7 days, as a TWS whose
   * trade log is set to 7 days). @default 'since-midnight'
   */
  executionWindow?: 'since-midnight' | 'unlimited';
}

export interface Quote {
  bid: number;
  ask: number;
  last: number;
  bidSize: number;
  askSize: number;
  time: number;
}

export interface GatewaySim {
  readonly port: number;
  readonly httpUrl: string | undefined;
  readonly serverVersion: number;
  /** Simulated clock, epoch ms. */
  now(): number;
  readonly faults: {
    dropAllConnections(): void;
    refuseConnections(ms: number): void;
    /** Ends a refusal now: the port listens again (a test refuses for long, and ends it once it has seen it). */
    acceptConnections(): Promise<void>;
    /** Stop answering (existing and new sessions) until stall(false). */
    stall(on: boolean): void;
    /** IB's daily reset: 1100 … 1102 + farm notices. @default downMs 1000 */
    dailyReset(options?: { downMs?: number }): Promise<void>;
    rejectNextOrder(reason: string, code?: number): void;
    /** The next `count` contract-details requests fail with this IB error instead of an answer. */
    failNextContractLookups(count: number, code: number, message: string): void;
    /** Every fill waits this long (wall ms) before it is booked and reported; 0 = no delay. */
    delayFills(ms: number): void;
    /** Fills queue up until withholdFills(false). */
    withholdFills(on: boolean): void;
    /** Every commission report trails its execution by this many wall ms (reqExecutions leaves it out until then); 0 = right after it. */
    delayCommissions(ms: number): void;
    /** A position change not caused by any order ('EUR.CAD' or key 'EURCAD'), in `account` (default the trading account). */
    driftPosition(instrument: string, quantity: number, account?: string): void;
    /**
     * An order placed at the broker by someone else (TWS by hand: client 0, or another API client) carrying
     * whatever `orderRef` it is given, our intent id included. Returns its ids.
     */
    placeManualOrder(order: {
      orderRef: string;
      instrument: string;
      side: 'BUY' | 'SELL';
      quantity: number;
      /** @default MKT */
      orderType?: 'MKT' | 'LMT';
      limitPrice?: number;
      /** @default 0 (TWS) */
      clientId?: number;
    }): { orderId: number; permId: number; clientId: number };
    /** A change of a working order's terms made at the broker (in TWS), not by the client that owns it. */
    modifyOrder(
      clientId: number,
      orderId: number,
      changes: { quantity?: number; limitPrice?: number; stopPrice?: number },
    ): void;
    /** The broker books a further fill of `quantity` on an order, beyond its size (an overfill). */
    overfillOrder(clientId: number, orderId: number, quantity: number): void;
    /** Cash moves without a trade (a fee, a transfer). */
    adjustCash(currency: string, amount: number): void;
    /** A position's average cost changes without a trade. */
    adjustAverageCost(instrument: string, averageCost: number): void;
    /**
     * Account updates (reqAccountUpdates) go silent until stallAccountUpdates(false), which sends every
     * subscriber the full picture again; orders, positions and executions keep answering.
     */
    stallAccountUpdates(on: boolean): void;
    /** The next `count` requests of this type (`reqExecutions`, `reqPositions`, …) are never answered. */
    leaveUnanswered(requestType: string, count?: number): void;
    /**
     * Drops all connections, releases held fills, then lets simulated time pass while nobody is connected,
     * one matching second at a time, until no order waits for the market or `maxAdvanceMs` have passed: orders
     * the market reaches fill at its prices and sizes, the others keep resting. Then accepts connections again.
     * @default maxAdvanceMs 3_600_000 (one simulated hour)
     */
    fillWhileDisconnected(options?: { maxAdvanceMs?: number }): Promise<void>;
    /**
     * The gateway's login. `logged_out` and `two_factor_pending` drop every session and hang up on new
     * connections (IBGA's relay with no logged-in gateway behind it), and write IBGA's log line for it;
     * `reason` (logged_out only) writes IBGA's `login failed: <reason>` instead.
     */
    setLogin(state: 'logged_in' | 'logged_out' | 'two_factor_pending', reason?: string): void;
    /**
     * Moves the simulated clock forward by `ms` at once (across midnight, say), with every connection kept.
     * Working orders are matched at the new time on the next tick.
     */
    advanceClock(ms: number): void;
    /** The gateway's link to IB: down with 1100 or 2110; up with 1102, or 1101 when `dataLost`. */
    brokerLink(change: { up: boolean; code?: 1100 | 2110; dataLost?: boolean }): void;
    /** Another login of the same user: market-data requests get 10197, and IBGA logs `existing session detected`. */
    competingSession(on: boolean): void;
    /** A client id held by a connection the gateway still counts (startApi with it gets 326). */
    holdClientId(clientId: number, on: boolean): void;
  };
  readonly account: {
    orders(): SimOrder[];
    executions(): SimExecution[];
    positions(): Array<{ instrument: string; conId: number; quantity: number; averageCost: number }>;
    values(): Record<string, string>;
  };
  quote(instrument: string): Quote | undefined;
  /** Connected API clients. */
  clients(): Array<{ clientId: number | undefined; remote: string; phase: string }>;
  /** When each real-time bar left and each order arrived (precise wall-clock ms), for latency benchmarks. */
  timeline(): { bars: BarSent[]; orders: OrderReceived[] };
  close(): Promise<void>;
}

export async function startGatewaySim(options: GatewaySimOptions = {}): Promise<GatewaySim> {
  const serverVersion = options.serverVersion ?? 176;
  if (!(SUPPORTED_SERVER_VERSIONS as readonly number[]).includes(serverVersion)) {
    throw new RangeError(
      `serverVersion must be one of ${SUPPORTED_SERVER_VERSIONS.join(', ')}, got ${serverVersion}`,
    );
  }
  const logger = (options.logger ?? createLogger({ service: 'gateway-sim' })).child({
    component: 'gateway-sim',
  });
  const registry = options.registry ?? createRegistry('gateway-sim');
  const metrics = gatewaySimMetrics(registry);
  // A restarted sim with a state file resumes its own clock (never earlier than the wall clock).
  const savedClock =
    options.stateFile && options.startTime === undefined
      ? loadClock(clockFileOf(options.stateFile))
      : undefined;
  const clock: SimClock = createSimClock({
    start: savedClock !== undefined ? Math.max(savedClock, Date.now()) : options.startTime,
    speed: options.speed ?? 1,
  });
  const instruments = new InstrumentTable();
  const csv = options.csvFile ? CsvPrices.fromFile(options.csvFile) : undefined;
  const seed = options.seed ?? 42;
  const book = new QuoteBook(instruments, seed, csv);
  const schedule = new MarketSchedule(options.marketHours ?? 'forex');
  const stateFile = options.stateFile;
  const timeZone = options.timeZone ?? 'UTC';
  if (!DateTime.now().setZone(timeZone).isValid) throw new RangeError(`timeZone: unknown zone "${timeZone}"`);
  const executionWindow: ExecutionWindow = { kind: options.executionWindow ?? 'since-midnight', timeZone };
  const transmitMode: TransmitMode = options.transmitMode ?? 'strict';
  const broker = new Broker({
    account: options.account ?? 'DU1234567',
    initialCash: options.initialCash ?? 1_000_000,
    seed,
    transmitMode,
    instruments,
    book,
    schedule,
    now: () => clock.now(),
    state: stateFile ? loadState(stateFile) : undefined,
    extraAccounts: options.extraAccounts,
  });
  const writer = new StateWriter(() => {
    if (!stateFile) return;
    try {
      saveState(stateFile, broker.snapshot());
    } catch (error) {
      logger.error({ err: error, stateFile }, 'cannot write the state file');
    }
  });
  // Order changes are coalesced (at most one write per 200 ms); faults and close write at once.
  const persist = () => writer.flush();
  const persistSoon = () => {
    if (stateFile) writer.changed();
  };
  const timeline = new Timeline();
  const gateway = new Gateway(
    { clock, instruments, book, schedule, broker, log: logger, metrics, timeline },
    {
      serverVersion,
      tickIntervalMs: options.tickIntervalMs ?? 100,
      stallBacklogBytes: options.stallBacklogBytes ?? 4 * 1024 * 1024,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 30_000,
      executionWindow,
      pacing: options.pacing === false ? undefined : new HistoricalPacing(() => clock.wallNow()),
      maxQuoteUpdatesPerInterval: Math.max(1, options.maxQuoteUpdatesPerInterval ?? 1),
      onStateChanged: persistSoon,
    },
  );
  const listener = new TcpListener(options.host ?? '127.0.0.1', (socket) => gateway.accept(socket), logger);
  gateway.attach(listener);
  await listener.listen(options.port ?? 4002);
  gateway.start();
  persist();
  const saveClockNow = () => {
    if (stateFile) saveClock(clockFileOf(stateFile), clock.now());
  };
  saveClockNow();
  const clockTimer = stateFile ? setInterval(saveClockNow, 1_000) : undefined;
  clockTimer?.unref();

  const resolveInstrument = (name: string) => {
    const instrument = instruments.find(name);
    if (!instrument) throw new UnknownInstrumentError(name);
    return instrument;
  };

  const checkDuration = (name: string, ms: number) => {
    // Node fires a timer longer than 2^31 − 1 ms at once.
    if (!(ms >= 0 && ms <= 2_147_483_647))
      throw new RangeError(`${name} must be between 0 and 2147483647 ms, got ${ms}`);
  };
  let closed = false;
  // The lines IBGA prints, verbatim, as the supervisor greps them (IBGA's scripts, see the research notes).
  const ibgaLog = (line: string) => {
    if (options.ibgaLogFile) appendFileSync(options.ibgaLogFile, `${line}\n`);
  };
  const faults: GatewaySim['faults'] = {
    dropAllConnections() {
      metrics.faults.inc({ fault: 'drop_connections' });
      logger.warn('fault: dropping every connection');
      gateway.dropAll();
    },
    refuseConnections(ms) {
      checkDuration('ms', ms);
      metrics.faults.inc({ fault: 'refuse_connections' });
      logger.warn({ ms }, 'fault: refusing connections');
      listener.refuse(ms);
    },
    async acceptConnections() {
      metrics.faults.inc({ fault: 'accept_connections' });
      await listener.reopen();
    },
    stall(on) {
      metrics.faults.inc({ fault: on ? 'stall' : 'unstall' });
      gateway.setStalled(on);
    },
    async dailyReset(resetOptions = {}) {
      checkDuration('downMs', resetOptions.downMs ?? 1000);
      metrics.faults.inc({ fault: 'daily_reset' });
      logger.warn({ downMs: resetOptions.downMs ?? 1000 }, 'fault: daily reset');
      await gateway.dailyReset(resetOptions.downMs ?? 1000);
    },
    rejectNextOrder(reason, code) {
      metrics.faults.inc({ fault: 'reject_next_order' });
      broker.rejectNextOrder(reason, code);
    },
    failNextContractLookups(count, code, message) {
      metrics.faults.inc({ fault: 'fail_contract_lookups' });
      logger.warn({ count, code }, 'fault: failing contract lookups');
      gateway.marketData.failNextContractLookups(count, code, message);
    },
    delayFills(ms) {
      checkDuration('ms', ms);
      metrics.faults.inc({ fault: 'delay_fills' });
      gateway.orders.gate.setDelay(ms);
    },
    withholdFills(on) {
      metrics.faults.inc({ fault: on ? 'withhold_fills' : 'release_fills' });
      gateway.orders.gate.setWithhold(on);
    },
    delayCommissions(ms) {
      checkDuration('ms', ms);
      metrics.faults.inc({ fault: 'delay_commissions' });
      gateway.orders.setCommissionDelay(ms);
    },
    driftPosition(instrument, quantity, driftAccount) {
      metrics.faults.inc({ fault: 'drift_position' });
      gateway.orders.route(broker.drift(resolveInstrument(instrument), quantity, driftAccount));
    },
    placeManualOrder(order) {
      metrics.faults.inc({ fault: 'manual_order' });
      const instrument = resolveInstrument(order.instrument);
      const clientId = order.clientId ?? 0;
      const orderId = broker.nextOrderId();
      logger.warn({ ...order, orderId }, 'fault: an order placed at the broker by someone else');
      gateway.orders.route(
        broker.placeOrder(clientId, {
          orderId,
          contract: {
            conId: instrument.conId,
            symbol: instrument.symbol,
            secType: instrument.secType,
            exchange: instrument.exchange,
            primaryExchange: instrument.primaryExchange,
            currency: instrument.currency,
            localSymbol: instrument.localSymbol,
            tradingClass: instrument.tradingClass,
          },
          action: order.side,
          totalQuantity: order.quantity,
          orderType: order.orderType ?? 'MKT',
          lmtPrice: order.limitPrice,
          auxPrice: undefined,
          tif: 'GTC',
          account: broker.account,
          orderRef: order.orderRef,
          transmit: true,
          parentId: 0,
          outsideRth: true,
        }),
      );
      const placed = broker.order(clientId, orderId);
      if (!placed) throw new Error(`the manual order was refused`);
      persist();
      return { orderId, permId: placed.permId, clientId };
    },
    modifyOrder(clientId, orderId, changes) {
      metrics.faults.inc({ fault: 'modify_order' });
      logger.warn({ clientId, orderId, changes }, 'fault: an order modified at the broker');
      gateway.orders.route(
        broker.modifyAtBroker(clientId, orderId, {
          quantity: changes.quantity,
          lmtPrice: changes.limitPrice,
          auxPrice: changes.stopPrice,
        }),
      );
      persist();
    },
    overfillOrder(clientId, orderId, quantity) {
      metrics.faults.inc({ fault: 'overfill_order' });
      logger.warn({ clientId, orderId, quantity }, 'fault: overfilling an order');
      gateway.orders.route(broker.overfill(clientId, orderId, quantity));
      persist();
    },
    adjustCash(currency, amount) {
      metrics.faults.inc({ fault: 'adjust_cash' });
      gateway.orders.route(broker.adjustCash(currency, amount));
      persist();
    },
    adjustAverageCost(instrument, averageCost) {
      metrics.faults.inc({ fault: 'adjust_average_cost' });
      gateway.orders.route(broker.adjustAverageCost(resolveInstrument(instrument), averageCost));
      persist();
    },
    stallAccountUpdates(on) {
      metrics.faults.inc({ fault: on ? 'stall_account_updates' : 'stall_account_updates_end' });
      logger.warn({ on }, 'fault: account updates stalled');
      gateway.accounts.stallUpdates(on);
    },
    leaveUnanswered(requestType, count = 1) {
      metrics.faults.inc({ fault: 'leave_unanswered' });
      logger.warn({ requestType, count }, 'fault: leaving requests unanswered');
      gateway.leaveUnanswered(requestType, count);
    },
    setLogin(state, reason) {
      metrics.faults.inc({ fault: `login_${state}` });
      logger.warn({ state, reason }, 'fault: gateway login state');
      gateway.setLogin(state);
      if (state === 'two_factor_pending')
        ibgaLog('!!! IB Gateway is waiting for two-factor authentication !!!');
      if (state === 'logged_out')
        ibgaLog(reason ? `login failed: ${reason}` : 'IB Gateway is no longer running, will restart');
    },
    advanceClock(ms) {
      if (!(ms >= 0) || !Number.isFinite(ms))
        throw new RangeError(`ms must be a non-negative number, got ${ms}`);
      metrics.faults.inc({ fault: 'advance_clock' });
      logger.warn({ ms }, 'fault: moving the simulated clock forward');
      clock.advance(ms);
      saveClockNow();
    },
    brokerLink(change) {
      metrics.faults.inc({ fault: change.up ? 'broker_link_up' : 'broker_link_down' });
      logger.warn(change, 'fault: broker link');
      gateway.setBrokerLink(change);
    },
    competingSession(on) {
      metrics.faults.inc({ fault: on ? 'competing_session' : 'competing_session_end' });
      gateway.setCompetingSession(on);
      if (on) ibgaLog('existing session detected');
    },
    holdClientId(clientId, on) {
      metrics.faults.inc({ fault: on ? 'hold_client_id' : 'release_client_id' });
      gateway.holdClientId(clientId, on);
    },
    async fillWhileDisconnected(fillOptions = {}) {
      const maxAdvanceMs = fillOptions.maxAdvanceMs ?? 3_600_000;
      if (!(maxAdvanceMs >= 0) || !Number.isFinite(maxAdvanceMs))
        throw new RangeError(`maxAdvanceMs must be a non-negative number, got ${maxAdvanceMs}`);
      metrics.faults.inc({ fault: 'fill_while_disconnected' });
      logger.warn({ maxAdvanceMs }, 'fault: letting the market run while nobody is connected');
      listener.pause();
      gateway.dropAll();
      await gateway.waitUntilNoSessions();
      gateway.orders.gate.releaseAll();
      // Nobody is connected, so fills are booked at once rather than through the gate.
      const book = (events: readonly BrokerEvent[]): void => {
        for (const event of events) {
          if (event.type === 'fillDecided') book(broker.applyFill(event.fill));
          else gateway.orders.route([event]);
        }
      };
      book(broker.evaluate());
      let advanced = 0;
      while (advanced < maxAdvanceMs && broker.hasUnmatchedWorkingOrders()) {
        const step = Math.min(1_000, maxAdvanceMs - advanced);
        clock.advance(step);
        advanced += step;
        book(broker.evaluate());
      }
      logger.info({ advancedMs: advanced }, 'fault: simulated time passed while disconnected');
      persist();
      if (!closed) await listener.reopen();
    },
  };

  const account: GatewaySim['account'] = {
    orders: () => broker.allOrders(),
    executions: () => broker.executions().map((execution) => ({ ...execution })),
    positions: () =>
      broker
        .positionKeys()
        .map((key) => ({ key, position: broker.positionOf(key)! }))
        .filter(({ position }) => position.quantity !== 0)
        .map(({ key, position }) => ({
          instrument: key,
          conId: instruments.get(key).conId,
          quantity: position.quantity,
          averageCost: position.averageCost,
        })),
    values: () => gateway.accounts.valuesRecord(),
  };

  const quote = (name: string): Quote | undefined => {
    const instrument = instruments.find(name);
    if (!instrument) return undefined;
    const current = book.at(instrument, clock.now());
    return {
      bid: current.bid,
      ask: current.ask,
      last: current.last,
      bidSize: current.bidSize,
      askSize: current.askSize,
      time: current.time,
    };
  };

  let health: HealthServer | undefined;
  const sim: GatewaySim = {
    get port() {
      return listener.port;
    },
    get httpUrl() {
      return health?.url;
    },
    serverVersion,
    now: () => clock.now(),
    faults,
    account,
    quote,
    clients: () => gateway.clients(),
    timeline: () => timeline.snapshot(),
    async close() {
      if (closed) return;
      closed = true;
      gateway.stop();
      await listener.close();
      await health?.close();
      persist();
      writer.close();
      if (clockTimer) clearInterval(clockTimer);
      saveClockNow();
      logger.info('gateway-sim stopped');
    },
  };

  if (options.httpPort !== undefined) {
    try {
      health = await startHealthServer({
        port: options.httpPort,
        host: options.host ?? '127.0.0.1',
        registry,
        checks: [{ name: 'api-listener', check: () => listener.listening }],
        routes: adminRoutes({
          sim,
          status: () => ({
            serverVersion,
            port: listener.port,
            listening: listener.listening,
            simTime: new Date(clock.now()).toISOString(),
            speed: clock.speed,
            timeZone,
            executionWindow: executionWindow.kind,
            executionsSince: Number.isFinite(executionWindowStart(executionWindow, clock.now()))
              ? new Date(executionWindowStart(executionWindow, clock.now())).toISOString()
              : null,
            marketHours: schedule.mode,
            transmitMode,
            account: broker.account,
            stalled: gateway.stalled,
            login: gateway.loginState,
            brokerLinkUp: gateway.brokerLinkUp,
            fills: gateway.orders.gate.state,
            nextOrderId: broker.nextOrderId(),
            subscriptions: {
              ...gateway.marketData.subscriptionCount,
              historicalUpdates: gateway.historical.subscriptionCount,
            },
            clients: gateway.clients(),
            orders: { total: broker.allOrders().length, open: broker.openOrders().length },
            executions: broker.executions().length,
            positions: account.positions(),
            values: account.values(),
          }),
        }),
      });
    } catch (error) {
      await sim.close();
      throw error;
    }
  }
  logger.info(
    {
      port: listener.port,
      httpUrl: health?.url,
      serverVersion,
      speed: clock.speed,
      marketHours: schedule.mode,
      transmitMode,
    },
    'gateway-sim listening',
  );
  return sim;
}
