/**
 * The execution service: the only writer of orders. Wiring of the parts:
 *
 *   lease acquired → connect the gateway → session ready → recovery → reconciliation → take intents
 *   lease lost or session lost → stop taking intents (the in-flight one finishes or is redelivered)
 *
 * A standby instance holds no gateway connection at all; it polls the lease and takes over when the
 * holder's lease expires, reconciling before it trades.
 */
import { Bus, type ConsumerHandle } from '@ibstack/bus';
import {
  type AccountSnapshot,
  type GatewayStatus,
  instrumentKey,
  KV_BUCKETS,
  Lease,
  LeaseMark,
  Mutex,
  nowIso,
  type ReconciliationResult,
  SECOND_MS,
  topics,
} from '@ibstack/contracts';
import { resolveTradingMode } from '@ibstack/config';
import { DurableTradingState } from '@ibstack/operator';
import { assertSchemaCurrent, connectDatabase, type DatabaseHandle } from '@ibstack/db';
import { checkAccountsMatchMode, IbConnection } from '@ibstack/ib';
import {
  createRegistry,
  type HealthServer,
  type Logger,
  type Registry,
  startHealthServer,
} from '@ibstack/observability';

import { IbBroker } from './adapters/ib-broker';
import { InstanceLock } from './adapters/instance-lock';
import { readDatabaseState } from './adapters/pg-identity';
import { ExecutionStore } from './adapters/pg-store';
import { AccountRecorder } from './account-recorder';
import type { ExecutionConfig } from './config';
import { handleControlCommand } from './control';
import { CrashPoints } from './crash-points';
import { InstrumentBook } from './instruments';
import { GatewaySwitch } from './gateway-switch';
import { ExecutionLease } from './lease';
import { MarketPrices } from './market-prices';
import { executionMetrics, type ExecutionMetrics } from './metrics';
import { OrderIds, OrderRouter } from './order-router';
import { OrderTracker } from './order-tracker';
import { Outbox } from './outbox';
import { Reconciler, type ReconciliationTrigger } from './reconciler';
import { recover } from './recovery';
import { ErrorHalt } from './error-halt';

export interface ExecutionServiceOptions {
  logger: Logger;
  registry?: Registry;
  /** Start the HTTP health/metrics server. @default true */
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

/** How often the trading-state metrics re-read KV `trading`. */
const TRADING_STATE_METRIC_REFRESH_MS = 5 * SECOND_MS;

export function createExecutionService(
  config: ExecutionConfig,
  options: ExecutionServiceOptions,
): ExecutionService {
  const log = options.logger;
  const clock = options.clock ?? Date.now;
  const registry = options.registry ?? createRegistry('execution');
  const metrics = executionMetrics(registry);
  metrics.reconciliationInterval.set(config.RECONCILE_INTERVAL_MS / 1000);
  metrics.accountMaxAge.set(config.ACCOUNT_MAX_AGE_MS / 1000);
  const crashPoints = new CrashPoints(config.IBSTACK_CRASH_AT);
  const mode = resolveTradingMode(config);
  const tradingMode = mode.ok ? mode.mode : 'paper';

  let database: DatabaseHandle | undefined;
  let bus: Bus | undefined;
  let health: HealthServer | undefined;
  let lease: ExecutionLease | undefined;
  let instanceLock: InstanceLock | undefined;
  let prices: MarketPrices | undefined;
  let connection: IbConnection | undefined;
  let outbox: Outbox | undefined;
  let accountRecorder: AccountRecorder | undefined;
  let reconciler: Reconciler | undefined;
  let intentConsumer: ConsumerHandle | undefined;
  let controlConsumer: ConsumerHandle | undefined;
  let reconcileTimer: NodeJS.Timeout | undefined;
  let gatewaySwitch: GatewaySwitch | undefined;
  let tradingStateTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let everReconciled = false;
  let tookOverLease = false;
  let refusedAccount = false;
  const exclusive = new Mutex();
  const sessions = new Mutex();

  async function stopTakingIntents(): Promise<void> {
    const consumers = [intentConsumer, controlConsumer].filter(
      (consumer): consumer is ConsumerHandle => consumer !== undefined,
    );
    intentConsumer = undefined;
    controlConsumer = undefined;
    if (reconcileTimer) clearInterval(reconcileTimer);
    reconcileTimer = undefined;
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  }

  const service: ExecutionService = {
    metrics,
    get healthUrl() {
      return health?.url;
    },
    isLeader: () => lease?.isHeld() ?? false,
    reconcileNow: (trigger = 'operator') =>
      reconciler && connection?.isReady()
        ? exclusive.run(() => reconciler!.run(trigger))
        : Promise.resolve(undefined),

    async start() {
      database = await connectDatabase(config.DATABASE_URL, {
        applicationName: 'execution',
        onError: (error) => log.warn({ err: error }, 'postgres connection error'),
      });
      await assertSchemaCurrent(database.db);
      bus = await Bus.connect({
        url: config.NATS_URL,
        replicas: config.NATS_REPLICAS,
        name: `execution-${config.INSTANCE_ID}`,
        namespace: config.BUS_NAMESPACE,
        logger: log,
        registry,
      });
      await bus.ensureStreams();
      const activeBus = bus;
      const db = database.db;
      const store = new ExecutionStore(db, clock);
      // Read before every order from NATS and Postgres, failing closed; a key missing in NATS is put back.
      const tradingState = new DurableTradingState({ bus, db: database.db });
      await tradingState.read();
      // Opening the bucket also brings its TTL to LEASE_TTL_MS when it was created with another one.
      const leaseKv = await bus.singleKeyKv('leases', Lease, {
        ttlMs: config.LEASE_TTL_MS,
        // A renewal fails fast and is retried within the holder's margin (a KV leader election).
        operationTimeoutMs: Math.max(500, Math.min(5_000, Math.floor(config.LEASE_TTL_MS / 5))),
      });
      const identity = new InstanceLock(database.pool, config.INSTANCE_ID, log.child({ component: 'lease' }));
      instanceLock = identity;
      lease = new ExecutionLease(
        leaseKv,
        store,
        {
          holder: config.INSTANCE_ID,
          ttlMs: config.LEASE_TTL_MS,
          ownsIdentity: () => identity.holds(),
          clock,
          guard: {
            marks: await bus.singleKeyKv(KV_BUCKETS.leaseMark, LeaseMark),
            database: () => readDatabaseState(db),
          },
        },
        log.child({ component: 'lease' }),
      );
      const activeLease = lease;

      connection = new IbConnection({
        host: config.IB_HOST,
        port: config.IB_PORT,
        clientId: config.IB_CLIENT_ID,
        logger: log,
        registry,
      });
      const activeConnection = connection;
      gatewaySwitch = new GatewaySwitch({
        connection,
        isLeader: () => activeLease.isHeld(),
        beforeDisconnect: stopTakingIntents,
        log,
      });
      const operatorSwitch = gatewaySwitch;
      const broker = new IbBroker(connection, config.GATEWAY_TIME_ZONE);
      broker.on('dataError', ({ event, error }) => {
        metrics.brokerDataErrors.inc({ event });
        log.error({ err: error, event }, 'could not read a broker message; dropped (reconciliation repairs)');
      });
      outbox = new Outbox(database.db, bus, log.child({ component: 'outbox' }));
      const activeOutbox = outbox;
      const tracker = new OrderTracker({
        store,
        broker,
        metrics,
        log: log.child({ component: 'tracker' }),
        crashPoints,
        now: clock,
        onStored: () => activeOutbox.kick(),
        // Reported at once rather than at the next periodic run (it queues behind whatever runs now).
        onSurprise: () => {
          if (!everReconciled || !activeConnection.isReady() || !activeLease.isHeld()) return;
          void exclusive
            .run(() => reconciler!.run('broker_event'))
            .then(refreshTradingState)
            .catch((error: unknown) =>
              log.error({ err: error }, 'reconciliation after a broker event failed'),
            );
        },
      });
      accountRecorder = new AccountRecorder({
        broker,
        store,
        bus,
        metrics,
        log,
        intervalMs: config.ACCOUNT_SNAPSHOT_INTERVAL_MS,
        reaskAfterMs: config.ACCOUNT_MAX_AGE_MS / 2,
        now: clock,
      });
      const recorder = accountRecorder;
      const instruments = new InstrumentBook(config.INSTRUMENTS, database.db, log);
      const ids = new OrderIds();
      const account = () => activeConnection.accounts[0] ?? null;
      prices = new MarketPrices({
        bus,
        instruments: config.INSTRUMENTS.map((instrument) => instrumentKey(instrument)),
        maxAgeMs: config.PRICE_MAX_AGE_MS,
        log: log.child({ component: 'prices' }),
        now: clock,
      });
      await prices.start();
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
        onStored: () => activeOutbox.kick(),
        now: clock,
      });
      reconciler = new Reconciler({
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
      const activeReconciler = reconciler;
      const refreshTradingState = async () => {
        const state = await tradingState.get();
        for (const name of ['RUNNING', 'HALTED', 'REDUCING'] as const)
          metrics.tradingState.set({ state: name }, state.state === name ? 1 : 0);
        metrics.tradingStateInfo.reset();
        metrics.tradingStateInfo.set({ state: state.state, reason: state.reason, by: state.by }, 1);
      };

      const publishGatewayStatus = (state: 'connecting' | 'connected' | 'disconnected') => {
        const status: GatewayStatus = {
          v: 1,
          service: 'execution',
          state,
          host: config.IB_HOST,
          port: config.IB_PORT,
          clientId: config.IB_CLIENT_ID,
          ts: nowIso(clock),
        };
        void activeBus.publish(topics.gatewayStatus, status).catch(() => undefined);
      };

      activeConnection.on('state', (state) => {
        publishGatewayStatus(state === 'ready' ? 'connected' : state);
        if (state !== 'ready') void stopTakingIntents();
      });
      const errorHalt = new ErrorHalt({
        maxErrors: config.ERROR_CIRCUIT_MAX_ERRORS,
        windowMs: config.ERROR_CIRCUIT_WINDOW_MS,
        clock,
        counts: () => activeLease.isHeld() && activeConnection.isReady(),
        tradingState,
        reconciler: activeReconciler,
        metrics,
        log,
        onHalted: refreshTradingState,
      });
      activeConnection.on('ibError', (error) => errorHalt.onError(error));

      /** Learns what happened at the broker while we were away, then reconciles (halting on a mismatch). */
      const resync = (trigger: ReconciliationTrigger) =>
        exclusive.run(async () => {
          await recover({
            store,
            broker,
            tracker,
            router,
            log: log.child({ component: 'recovery' }),
            policy: config.RECOVERY_POLICY,
            gatewayTimeZone: config.GATEWAY_TIME_ZONE,
            crashPoints,
            clock,
          });
          await activeReconciler.run(trigger);
        });

      const awaitAccountValues = async () => {
        const snapshot = await recorder.awaitFresh(config.RECONCILE_READ_TIMEOUT_MS);
        if (snapshot)
          log.info({ netLiquidation: snapshot.netLiquidation, at: snapshot.ts }, 'account values fresh');
        else
          log.warn(
            { timeoutMs: config.RECONCILE_READ_TIMEOUT_MS },
            'no account values from the broker in time: orders that add exposure are refused until they arrive',
          );
      };

      // IB's daily reset and other outages of the gateway's own link: 1100, then 1101/1102.
      activeConnection.on('brokerConnectivity', ({ up }) => {
        if (!up || !activeConnection.isReady() || !activeLease.isHeld() || !everReconciled) return;
        // IB may have dropped the account subscription with the link (1101): ask again, and have the
        // fresh values before trusting the loss rules again (until then the old snapshot only ages).
        const current = account();
        if (current) recorder.start(current);
        void sessions
          .run(async () => {
            await awaitAccountValues();
            await resync('reconnect');
          })
          .then(refreshTradingState)
          .catch((error: unknown) =>
            log.error({ err: error }, 'resync after the broker link came back failed'),
          );
      });

      const onSessionReady = (info: { reconnect: boolean; nextValidId: number; accounts: string[] }) =>
        sessions
          .run(async () => {
            if (stopping || !activeLease.isHeld()) return;
            const problems = checkAccountsMatchMode(tradingMode, info.accounts);
            if (problems.length > 0) {
              refusedAccount = true;
              log.fatal({ problems }, 'gateway account does not match the trading mode: refusing to trade');
              await activeReconciler.halt(problems.join('; '), { accounts: info.accounts });
              await refreshTradingState();
              return;
            }
            await ids.reset(store, info.nextValidId);
            await instruments.resolveAtGateway(broker);
            const trigger: ReconciliationTrigger = info.reconnect
              ? 'reconnect'
              : tookOverLease || everReconciled
                ? 'lease_acquired'
                : 'start';
            // The loss rules judge the session's first send by a fresh account value from the broker:
            // recovery's re-send of an order that may never have left is one.
            recorder.start(info.accounts[0]!);
            await awaitAccountValues();
            await resync(trigger);
            everReconciled = true;
            await refreshTradingState();
            const mayTrade = () => !stopping && activeConnection.isReady() && activeLease.isHeld();
            if (!mayTrade()) return;
            // Operator commands first, so a halt waiting in the stream applies before any intent. A new
            // durable starts with new commands only: an old resume must never replay.
            controlConsumer ??= await activeBus.consume(topics.control, {
              durable: 'execution-control',
              maxAckPending: 1,
              maxDeliver: 20,
              deliverFrom: { policy: 'new' },
              handler: (command) =>
                handleControlCommand(command, {
                  store,
                  bus: activeBus,
                  broker,
                  tradingState,
                  log,
                  reconcileNow: () => exclusive.run(() => activeReconciler.run('operator')),
                  onResume: () => errorHalt.reset(),
                  clock,
                  modify: (intentId, changes) => exclusive.run(() => router.modify(intentId, changes)),
                }).then(refreshTradingState),
            });
            // The lease or the session may have gone while the consumer was being set up.
            if (!mayTrade()) return void stopTakingIntents();
            intentConsumer ??= await activeBus.consume(topics.orderIntent, {
              durable: 'execution',
              maxAckPending: 1,
              maxDeliver: 1_000,
              ackWaitMs: config.INTENT_ACK_WAIT_MS,
              handler: (intent) => exclusive.run(() => router.handle(intent)),
              afterAck: () => crashPoints.hit('after_ack'),
            });
            if (!mayTrade()) return void stopTakingIntents();
            reconcileTimer ??= setInterval(() => {
              if (!activeConnection.isReady()) return;
              // Outside the mutex: a run that cannot even start (the mutex held, a read hanging) still
              // counts against the age of the last clean run.
              void activeReconciler
                .haltIfStale('no periodic run finished clean')
                .then((halted) => (halted ? refreshTradingState() : undefined))
                .catch((error: unknown) => log.error({ err: error }, 'could not check the last clean run'));
              void exclusive
                .run(() => activeReconciler.run('periodic'))
                .then(refreshTradingState)
                .catch((error: unknown) => log.error({ err: error }, 'periodic reconciliation failed'));
            }, config.RECONCILE_INTERVAL_MS);
          })
          .catch((error: unknown) => {
            log.error({ err: error }, 'session start-up failed; dropping the session to retry');
            activeConnection.dropSession('start-up failed');
          });

      activeConnection.on('ready', (info) => void onSessionReady(info));
      // Lease changes apply one after the other: a loss must have left the gateway before a new
      // acquisition connects again, or the re-acquired lease would hold no session at all.
      const leaseTransitions = new Mutex();
      const leaseTransition = (step: () => Promise<void> | void) => {
        leaseTransitions
          .run(async () => step())
          .catch((error: unknown) => log.error({ err: error }, 'lease transition failed'));
      };
      activeLease.on('acquired', (epoch, tookOver) =>
        leaseTransition(() => {
          tookOverLease = tookOver;
          metrics.leaseHolder.set(1);
          metrics.leaseEpoch.set(epoch);
          if (activeLease.isHeld() && operatorSwitch.mayConnect()) activeConnection.start();
        }),
      );
      activeLease.on('lost', (reason) =>
        leaseTransition(async () => {
          metrics.leaseHolder.set(0);
          log.warn({ reason }, 'lease lost: stopping order flow and leaving the gateway');
          await stopTakingIntents();
          await activeConnection.stop();
        }),
      );

      if (options.http ?? true) {
        health = await startHealthServer({
          port: config.HTTP_PORT,
          registry,
          checks: [
            { name: 'nats', check: () => activeBus.isConnected() },
            {
              name: 'postgres',
              check: async () => {
                await database!.pool.query('select 1');
                return true;
              },
            },
            // A standby is ready when it can take over; the holder when its gateway session is up.
            {
              name: 'gateway',
              check: () => !activeLease.isHeld() || (activeConnection.isReady() && !refusedAccount),
            },
          ],
        });
      }
      outbox.start();
      await refreshTradingState();
      operatorSwitch.serve(activeBus);
      // The operator CLI and the strategy write the trading state to KV themselves: the metric (and the
      // halted alert) follows within seconds rather than at the next event of ours.
      tradingStateTimer = setInterval(() => {
        refreshTradingState().catch((error: unknown) =>
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
      stopping = true;
      gatewaySwitch?.stop();
      if (tradingStateTimer) clearInterval(tradingStateTimer);
      await stopTakingIntents();
      await accountRecorder?.stop();
      await outbox?.flush().catch(() => undefined);
      await outbox?.stop();
      await lease?.stop();
      await connection?.stop();
      instanceLock?.close();
      prices?.stop();
      await health?.close();
      await bus?.close();
      await database?.close();
      log.info('execution stopped');
    },
  };
  return service;
}
