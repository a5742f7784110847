/**
 * The execution service: the only writer of orders. `createExecutionService` builds every part from the
 * connections it is given (`adapters/connect.ts`); `start()` starts them and `stop()` stops them. The
 * lease/session life lives in `session.ts` (its decisions in `domain/session-state.ts`):
 *
 *   lease acquired → connect the gateway → session ready → recovery → reconciliation → take intents
 *   lease lost or session lost → stop taking intents (the in-flight one finishes or is redelivered)
 *
 * A standby instance holds no gateway connection at all; it polls the lease and takes over when the
 * holder's lease expires, reconciling before it trades.
 */
import type { Bus, SingleKeyKv } from '@ibstack/bus';
import {
  type AccountSnapshot,
  instrumentKey,
  type Lease,
  type LeaseMark,
  type ReconciliationResult,
} from '@ibstack/contracts';
import { resolveTradingMode } from '@ibstack/config';
import { DurableTradingState } from '@ibstack/operator';
import type { DatabaseHandle } from '@ibstack/db';
import { IbConnection } from '@ibstack/ib';
import { type HealthServer, type Logger, type Registry, startHealthServer } from '@ibstack/observability';

import { IbBroker } from './adapters/ib-broker';
import { InstanceLock } from './adapters/instance-lock';
import { readDatabaseState } from './adapters/pg-identity';
import { ExecutionStore } from './adapters/pg-store';
import { AccountRecorder } from './account-recorder';
import type { ExecutionConfig } from './config';
import { CrashPoints } from './crash-points';
import { ErrorHalt } from './error-halt';
import { GatewaySwitch } from './gateway-switch';
import { InstrumentBook } from './instruments';
import { ExecutionLease } from './lease';
import { MarketPrices } from './market-prices';
import { executionMetrics, type ExecutionMetrics } from './metrics';
import { OrderIds, OrderRouter } from './order-router';
import { OrderTracker } from './order-tracker';
import { Outbox } from './outbox';
import { Reconciler, type ReconciliationTrigger } from './reconciler';
import { ExecutionSession, TRADING_STATE_METRIC_REFRESH_MS } from './session';

export interface ExecutionServiceDeps {
  /** Postgres, connected, schema current (`connectExecution`); closed by the caller after `stop()`. */
  database: DatabaseHandle;
  /** NATS, connected, streams ensured (`connectExecution`); closed by the caller after `stop()`. */
  bus: Bus;
  /** KV `leases` (`connectExecution`). */
  leaseKv: SingleKeyKv<Lease>;
  /** KV `lease-mark` (`connectExecution`): the last grant, for the lease guard. */
  leaseMarks: SingleKeyKv<LeaseMark>;
  logger: Logger;
  registry: Registry;
  /** Start the HTTP health/metrics server on HTTP_PORT. @default true */
  http?: boolean;
  /** Epoch ms: every time execution reads comes from here. @default Date.now */
  clock?: () => number;
}

export interface ExecutionService {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly metrics: ExecutionMetrics;
  readonly healthUrl: string | undefined;
  isLeader(): boolean;
  /** Runs one reconciliation now (operator or test). */
  reconcileNow(trigger?: ReconciliationTrigger): Promise<ReconciliationResult | undefined>;
}

export function createExecutionService(
  config: ExecutionConfig,
  deps: ExecutionServiceDeps,
): ExecutionService {
  const { database, bus, registry } = deps;
  const log = deps.logger;
  const clock = deps.clock ?? Date.now;
  const metrics = executionMetrics(registry);
  metrics.reconciliationInterval.set(config.RECONCILE_INTERVAL_MS / 1000);
  metrics.accountMaxAge.set(config.ACCOUNT_MAX_AGE_MS / 1000);
  const crashPoints = new CrashPoints(config.IBSTACK_CRASH_AT);
  const mode = resolveTradingMode(config);
  const tradingMode = mode.ok ? mode.mode : 'paper';

  const store = new ExecutionStore(database.db, clock);
  // Read before every order from NATS and Postgres, failing closed; a key missing in NATS is put back.
  const tradingState = new DurableTradingState({ bus, db: database.db });
  const instanceLock = new InstanceLock(database.pool, config.INSTANCE_ID, log.child({ component: 'lease' }));
  const lease = new ExecutionLease(
    deps.leaseKv,
    store,
    {
      holder: config.INSTANCE_ID,
      ttlMs: config.LEASE_TTL_MS,
      ownsIdentity: () => instanceLock.holds(),
      clock,
      guard: {
        marks: deps.leaseMarks,
        database: () => readDatabaseState(database.db),
      },
    },
    log.child({ component: 'lease' }),
  );
  const connection = new IbConnection({
    host: config.IB_HOST,
    port: config.IB_PORT,
    clientId: config.IB_CLIENT_ID,
    logger: log,
    registry,
  });
  const gatewaySwitch = new GatewaySwitch({
    connection,
    isLeader: () => lease.isHeld(),
    beforeDisconnect: (): Promise<void> => session.stopTakingIntents(),
    log,
  });
  const broker = new IbBroker(connection, config.GATEWAY_TIME_ZONE);
  broker.on('dataError', ({ event, error }) => {
    metrics.brokerDataErrors.inc({ event });
    log.error({ err: error, event }, 'could not read a broker message; dropped (reconciliation repairs)');
  });
  const outbox = new Outbox(store.outbox, bus, log.child({ component: 'outbox' }));
  const tracker = new OrderTracker({
    store,
    broker,
    metrics,
    log: log.child({ component: 'tracker' }),
    crashPoints,
    now: clock,
    onStored: () => outbox.kick(),
    onSurprise: (): void => session.onBrokerSurprise(),
  });
  const recorder = new AccountRecorder({
    broker,
    store,
    bus,
    metrics,
    log,
    intervalMs: config.ACCOUNT_SNAPSHOT_INTERVAL_MS,
    reaskAfterMs: config.ACCOUNT_MAX_AGE_MS / 2,
    now: clock,
  });
  const instruments = new InstrumentBook(config.INSTRUMENTS, store.instruments, log);
  const ids = new OrderIds();
  const account = () => connection.accounts[0] ?? null;
  const prices = new MarketPrices({
    bus,
    instruments: config.INSTRUMENTS.map((instrument) => instrumentKey(instrument)),
    maxAgeMs: config.PRICE_MAX_AGE_MS,
    log: log.child({ component: 'prices' }),
    now: clock,
  });
  const router = new OrderRouter({
    store,
    broker,
    tracker,
    lease,
    tradingState,
    instruments,
    ids,
    metrics,
    log: log.child({ component: 'router' }),
    crashPoints,
    limits: config.RISK_LIMITS_JSON,
    account,
    latestSnapshot: (): AccountSnapshot | null => recorder.latestSnapshot(),
    accountMaxAgeMs: config.ACCOUNT_MAX_AGE_MS,
    prices,
    fxRatesToUsd: config.FX_RATES_TO_USD_JSON,
    intentMaxAgeMs: config.INTENT_MAX_AGE_MS,
    onStored: () => outbox.kick(),
    now: clock,
  });
  const reconciler = new Reconciler({
    store,
    broker,
    tracker,
    bus,
    tradingState,
    metrics,
    log: log.child({ component: 'reconciliation' }),
    account,
    gatewayTimeZone: config.GATEWAY_TIME_ZONE,
    positionTolerance: config.POSITION_TOLERANCE,
    haltCancelsOrders: config.RECONCILIATION_HALT_CANCELS_ORDERS,
    averageCostTolerance: config.RECONCILE_AVERAGE_COST_TOLERANCE,
    cashTolerance: config.RECONCILE_CASH_TOLERANCE,
    instrumentOf: (key) => instruments.find(key),
    readTimeoutMs: config.RECONCILE_READ_TIMEOUT_MS,
    maxCleanAgeMs: config.RECONCILE_MAX_CLEAN_AGE_MS,
    settleAttempts: config.RECONCILE_SETTLE_ATTEMPTS,
    crashPoints,
    now: clock,
  });
  const errorHalt = new ErrorHalt({
    maxErrors: config.ERROR_CIRCUIT_MAX_ERRORS,
    windowMs: config.ERROR_CIRCUIT_WINDOW_MS,
    clock,
    counts: () => lease.isHeld() && connection.isReady(),
    tradingState,
    reconciler,
    metrics,
    log,
    onHalted: (): Promise<void> => session.refreshTradingState(),
  });
  const session: ExecutionSession = new ExecutionSession({
    config,
    tradingMode,
    bus,
    store,
    broker,
    connection,
    lease,
    gatewaySwitch,
    tracker,
    router,
    reconciler,
    recorder,
    instruments,
    ids,
    tradingState,
    errorHalt,
    crashPoints,
    metrics,
    log,
    clock,
  });

  connection.on('state', (state) => session.onGatewayState(state));
  connection.on('ibError', (error) => errorHalt.onError(error));
  connection.on('brokerConnectivity', ({ up }) => session.onBrokerLink(up));
  connection.on('ready', (info) => void session.onSessionReady(info));
  lease.on('acquired', (epoch, tookOver) => session.onLeaseAcquired(epoch, tookOver));
  lease.on('lost', (reason) => session.onLeaseLost(reason));

  let health: HealthServer | undefined;
  let tradingStateTimer: NodeJS.Timeout | undefined;

  return {
    metrics,
    get healthUrl() {
      return health?.url;
    },
    isLeader: () => lease.isHeld(),
    reconcileNow: (trigger = 'operator') =>
      connection.isReady() ? session.exclusively(() => reconciler.run(trigger)) : Promise.resolve(undefined),

    async start() {
      await tradingState.read();
      await prices.start();
      if (deps.http ?? true) {
        health = await startHealthServer({
          port: config.HTTP_PORT,
          registry,
          checks: [
            { name: 'nats', check: () => bus.isConnected() },
            { name: 'postgres', check: () => database.ping() },
            { name: 'gateway', check: () => session.healthy() },
          ],
        });
      }
      outbox.start();
      await session.refreshTradingState();
      gatewaySwitch.serve(bus);
      // The operator CLI and the strategy write the trading state to KV themselves: the metric (and the
      // halted alert) follows within seconds rather than at the next event of ours.
      tradingStateTimer = setInterval(() => {
        session
          .refreshTradingState()
          .catch((error: unknown) =>
            log.debug({ err: error }, 'could not read the trading state for its metric'),
          );
      }, TRADING_STATE_METRIC_REFRESH_MS);
      tradingStateTimer.unref();
      lease.start();
      log.info(
        {
          instance: config.INSTANCE_ID,
          mode: tradingMode,
          gateway: `${config.IB_HOST}:${config.IB_PORT}`,
          http: health?.url,
        },
        'execution started',
      );
    },

    async stop() {
      session.stopping();
      gatewaySwitch.stop();
      if (tradingStateTimer) clearInterval(tradingStateTimer);
      await session.stopTakingIntents();
      await recorder.stop();
      await outbox.flush().catch(() => undefined);
      await outbox.stop();
      await lease.stop();
      await connection.stop();
      instanceLock.close();
      prices.stop();
      await health?.close();
      log.info('execution stopped');
    },
  };
}
