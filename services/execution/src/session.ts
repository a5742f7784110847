/**
 * Execution's session and lease life: what happens when the lease comes and goes, when the gateway session
 * is ready or lost, when IB's link comes back, and when the broker surprises us. The decisions are pure
 * (domain/session-state.ts); this module carries them out: connecting and leaving the gateway, the session
 * start-up (account check, order ids, instruments, account values, recovery, reconciliation, then the
 * control and intent consumers and the periodic reconciliation), and the resync after a link outage.
 *
 * Two serialisers: `sessions` runs start-ups and resyncs one after the other; `exclusive` runs the work
 * that must not overlap (recovery, reconciliation, one intent, one operator command).
 */
import type { Bus, ConsumerHandle } from '@ibstack/bus';
import { Mutex, nowIso, SECOND_MS, type GatewayStatus, topics } from '@ibstack/contracts';
import { checkAccountsMatchMode, type IbConnection } from '@ibstack/ib';
import type { Logger } from '@ibstack/observability';
import type { DurableTradingState } from '@ibstack/operator';

import type { AccountRecorder } from './account-recorder';
import type { ExecutionStore } from './adapters/pg-store';
import type { ExecutionConfig } from './config';
import { handleControlCommand } from './control';
import type { CrashPoints } from './crash-points';
import {
  initialSessionMemory,
  mayTrade,
  type SessionAction,
  type SessionEvent,
  sessionHealthy,
  type SessionMemory,
  type SessionReadings,
  sessionStep,
} from './domain/session-state';
import type { ErrorHalt } from './error-halt';
import type { GatewaySwitch } from './gateway-switch';
import type { InstrumentBook } from './instruments';
import type { ExecutionLease } from './lease';
import type { ExecutionMetrics } from './metrics';
import { NotReadyError, type OrderIds, type OrderRouter } from './order-router';
import type { OrderTracker } from './order-tracker';
import type { Broker } from './ports';
import type { Reconciler, ReconciliationTrigger } from './reconciler';
import { recover } from './recovery';

/** How often the trading-state metrics re-read KV `trading`. */
export const TRADING_STATE_METRIC_REFRESH_MS = 5 * SECOND_MS;

export interface SessionDependencies {
  config: Pick<
    ExecutionConfig,
    | 'IB_HOST'
    | 'IB_PORT'
    | 'IB_CLIENT_ID'
    | 'RECOVERY_POLICY'
    | 'GATEWAY_TIME_ZONE'
    | 'RECONCILE_READ_TIMEOUT_MS'
    | 'RECONCILE_INTERVAL_MS'
    | 'INTENT_ACK_WAIT_MS'
  >;
  tradingMode: 'paper' | 'live';
  bus: Bus;
  store: ExecutionStore;
  broker: Broker;
  connection: IbConnection;
  lease: ExecutionLease;
  gatewaySwitch: GatewaySwitch;
  tracker: OrderTracker;
  router: OrderRouter;
  reconciler: Reconciler;
  recorder: AccountRecorder;
  instruments: InstrumentBook;
  ids: OrderIds;
  tradingState: DurableTradingState;
  errorHalt: ErrorHalt;
  crashPoints: CrashPoints;
  metrics: ExecutionMetrics;
  log: Logger;
  clock: () => number;
}

export class ExecutionSession {
  private memory: SessionMemory = initialSessionMemory;
  private intentConsumer: ConsumerHandle | undefined;
  private controlConsumer: ConsumerHandle | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private readonly exclusive = new Mutex();
  private readonly sessions = new Mutex();
  // Lease changes apply one after the other: a loss must have left the gateway before a new acquisition
  // connects again, or the re-acquired lease would hold no session at all.
  private readonly leaseTransitions = new Mutex();
  /**
   * Resyncs after the broker link came back that have not finished: until they have, intents wait (are
   * redelivered), so the first order after 1101/1102 is judged by the account value the broker sends then
   * and by books recovery and reconciliation have brought up to date, not by what held before the outage.
   */
  private linkResyncs = 0;

  constructor(private readonly deps: SessionDependencies) {}

  /** Runs `work` when nothing else that must not overlap runs (recovery, reconciliation, an intent). */
  exclusively<T>(work: () => Promise<T>): Promise<T> {
    return this.exclusive.run(work);
  }

  /** Whether this instance may take intents now (lease held, session ready, not stopping). */
  mayTrade(): boolean {
    return mayTrade(this.memory, this.readings());
  }

  /** What `/readyz` reports for the gateway. */
  healthy(): boolean {
    return sessionHealthy(this.memory, this.readings());
  }

  onLeaseAcquired(epoch: number, tookOver: boolean): void {
    this.leaseTransition(() => {
      this.deps.metrics.leaseHolder.set(1);
      this.deps.metrics.leaseEpoch.set(epoch);
      return this.apply({
        type: 'lease_acquired',
        tookOver,
        operatorHoldsDown: !this.deps.gatewaySwitch.mayConnect(),
      });
    });
  }

  onLeaseLost(reason: string): void {
    this.leaseTransition(() => {
      this.deps.metrics.leaseHolder.set(0);
      this.deps.log.warn({ reason }, 'lease lost: stopping order flow and leaving the gateway');
      return this.apply({ type: 'lease_lost' });
    });
  }

  onGatewayState(state: 'connecting' | 'ready' | 'disconnected'): void {
    const status = state === 'ready' ? 'connected' : state;
    this.publishGatewayStatus(status);
    void this.apply({ type: 'gateway_state', state: status });
  }

  /** IB's daily reset and other outages of the gateway's own link: 1100, then 1101/1102. */
  onBrokerLink(up: boolean): void {
    void this.apply({ type: 'broker_link', up });
  }

  /** A broker event nobody asked for: reported at once rather than at the next periodic run. */
  onBrokerSurprise(): void {
    void this.apply({ type: 'broker_surprise' });
  }

  onSessionReady(info: { reconnect: boolean; nextValidId: number; accounts: string[] }): Promise<void> {
    return this.sessions
      .run(async () => {
        const accountProblems = checkAccountsMatchMode(this.deps.tradingMode, info.accounts);
        await this.apply({ type: 'session_ready', reconnect: info.reconnect, accountProblems }, info);
      })
      .catch((error: unknown) => {
        this.deps.log.error({ err: error }, 'session start-up failed; dropping the session to retry');
        this.deps.connection.dropSession('start-up failed');
      });
  }

  /** Marks the service stopping: no session start-up proceeds after this. */
  stopping(): void {
    void this.apply({ type: 'stopping' });
  }

  /** Stops the consumers of intents and commands and the periodic reconciliation. */
  async stopTakingIntents(): Promise<void> {
    const consumers = [this.intentConsumer, this.controlConsumer].filter(
      (consumer): consumer is ConsumerHandle => consumer !== undefined,
    );
    this.intentConsumer = undefined;
    this.controlConsumer = undefined;
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = undefined;
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  }

  /** Sets the trading-state metrics from KV `trading`. */
  async refreshTradingState(): Promise<void> {
    const { tradingState, metrics } = this.deps;
    const state = await tradingState.get();
    for (const name of ['RUNNING', 'HALTED', 'REDUCING'] as const)
      metrics.tradingState.set({ state: name }, state.state === name ? 1 : 0);
    metrics.tradingStateInfo.reset();
    metrics.tradingStateInfo.set({ state: state.state, reason: state.reason, by: state.by }, 1);
  }

  private readings(): SessionReadings {
    return { leaseHeld: this.deps.lease.isHeld(), gatewayReady: this.deps.connection.isReady() };
  }

  private leaseTransition(step: () => Promise<void> | void): void {
    this.leaseTransitions
      .run(async () => step())
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'lease transition failed'));
  }

  /** One step of the state machine, its actions carried out in order. */
  private async apply(
    event: SessionEvent,
    session?: { nextValidId: number; accounts: string[] },
  ): Promise<void> {
    const step = sessionStep(this.memory, this.readings(), event);
    this.memory = step.memory;
    for (const action of step.actions) await this.carryOut(action, session);
  }

  private async carryOut(
    action: SessionAction,
    session: { nextValidId: number; accounts: string[] } | undefined,
  ): Promise<void> {
    const { connection, reconciler, log } = this.deps;
    switch (action.type) {
      case 'connect_gateway':
        connection.start();
        return;
      case 'stop_taking_intents':
        // A lost session stops the consumers without waiting; a lost lease waits before leaving.
        return this.stopTakingIntents();
      case 'leave_gateway':
        return connection.stop();
      case 'refuse_account':
        log.fatal(
          { problems: action.problems },
          'gateway account does not match the trading mode: refusing to trade',
        );
        await reconciler.halt(action.problems.join('; '), { accounts: session?.accounts });
        await this.refreshTradingState();
        return;
      case 'start_session':
        return this.startSession(action.trigger, session!);
      case 'resync_after_link':
        return this.resyncAfterLink();
      case 'reconcile_broker_event':
        void this.exclusive
          .run(() => reconciler.run('broker_event'))
          .then(() => this.refreshTradingState())
          .catch((error: unknown) => log.error({ err: error }, 'reconciliation after a broker event failed'));
        return;
    }
  }

  /** Learns what happened at the broker while we were away, then reconciles (halting on a mismatch). */
  private resync(trigger: ReconciliationTrigger): Promise<void> {
    const d = this.deps;
    return this.exclusive.run(async () => {
      await recover({
        store: d.store,
        broker: d.broker,
        tracker: d.tracker,
        router: d.router,
        log: d.log.child({ component: 'recovery' }),
        policy: d.config.RECOVERY_POLICY,
        gatewayTimeZone: d.config.GATEWAY_TIME_ZONE,
        crashPoints: d.crashPoints,
        clock: d.clock,
      });
      await d.reconciler.run(trigger);
    });
  }

  private async awaitAccountValues(): Promise<void> {
    const { recorder, config, log } = this.deps;
    const snapshot = await recorder.awaitFresh(config.RECONCILE_READ_TIMEOUT_MS);
    if (snapshot)
      log.info({ netLiquidation: snapshot.netLiquidation, at: snapshot.ts }, 'account values fresh');
    else
      log.warn(
        { timeoutMs: config.RECONCILE_READ_TIMEOUT_MS },
        'no account values from the broker in time: orders that add exposure are refused until they arrive',
      );
  }

  private resyncAfterLink(): void {
    // IB may have dropped the account subscription with the link (1101): ask again, and have the fresh
    // values before trusting the loss rules again (until then the old snapshot only ages).
    const current = this.deps.connection.accounts[0];
    if (current) this.deps.recorder.start(current);
    this.linkResyncs += 1;
    void this.sessions
      .run(async () => {
        await this.awaitAccountValues();
        await this.resync('reconnect');
      })
      .finally(() => (this.linkResyncs -= 1))
      .then(() => this.refreshTradingState())
      .catch((error: unknown) =>
        this.deps.log.error({ err: error }, 'resync after the broker link came back failed'),
      );
  }

  /** A ready session of the lease holder: recover and reconcile, then take commands and intents. */
  private async startSession(
    trigger: ReconciliationTrigger,
    info: { nextValidId: number; accounts: string[] },
  ): Promise<void> {
    const d = this.deps;
    await d.ids.reset(d.store, info.nextValidId);
    await d.instruments.resolveAtGateway(d.broker);
    // The loss rules judge the session's first send by a fresh account value from the broker: recovery's
    // re-send of an order that may never have left is one.
    d.recorder.start(info.accounts[0]!);
    await this.awaitAccountValues();
    await this.resync(trigger);
    await this.apply({ type: 'session_reconciled' });
    await this.refreshTradingState();
    if (!this.mayTrade()) return;
    // Operator commands first, so a halt waiting in the stream applies before any intent. A new durable
    // starts with new commands only: an old resume must never replay.
    this.controlConsumer ??= await d.bus.consume(topics.control, {
      durable: 'execution-control',
      maxAckPending: 1,
      maxDeliver: 20,
      deliverFrom: { policy: 'new' },
      handler: (command) =>
        handleControlCommand(command, {
          store: d.store,
          bus: d.bus,
          broker: d.broker,
          tradingState: d.tradingState,
          log: d.log,
          reconcileNow: () => this.exclusive.run(() => d.reconciler.run('operator')),
          onResume: () => d.errorHalt.reset(),
          clock: d.clock,
          modify: (intentId, changes) => this.exclusive.run(() => d.router.modify(intentId, changes)),
        }).then(() => this.refreshTradingState()),
    });
    // The lease or the session may have gone while the consumer was being set up.
    if (!this.mayTrade()) return void this.stopTakingIntents();
    this.intentConsumer ??= await d.bus.consume(topics.orderIntent, {
      durable: 'execution',
      maxAckPending: 1,
      maxDeliver: 1_000,
      ackWaitMs: d.config.INTENT_ACK_WAIT_MS,
      handler: (intent) =>
        this.exclusive.run(() => {
          if (this.linkResyncs > 0)
            throw new NotReadyError('the broker link came back: waiting for its account values and resync');
          return d.router.handle(intent);
        }),
      afterAck: () => d.crashPoints.hit('after_ack'),
    });
    if (!this.mayTrade()) return void this.stopTakingIntents();
    this.reconcileTimer ??= setInterval(() => {
      if (!d.connection.isReady()) return;
      // Outside the mutex: a run that cannot even start (the mutex held, a read hanging) still counts
      // against the age of the last clean run.
      void d.reconciler
        .haltIfStale('no periodic run finished clean')
        .then((halted) => (halted ? this.refreshTradingState() : undefined))
        .catch((error: unknown) => d.log.error({ err: error }, 'could not check the last clean run'));
      void this.exclusive
        .run(() => d.reconciler.run('periodic'))
        .then(() => this.refreshTradingState())
        .catch((error: unknown) => d.log.error({ err: error }, 'periodic reconciliation failed'));
    }, d.config.RECONCILE_INTERVAL_MS);
  }

  private publishGatewayStatus(state: GatewayStatus['state']): void {
    const { config, bus, clock } = this.deps;
    const status: GatewayStatus = {
      v: 1,
      service: 'execution',
      state,
      host: config.IB_HOST,
      port: config.IB_PORT,
      clientId: config.IB_CLIENT_ID,
      ts: nowIso(clock),
    };
    void bus.publish(topics.gatewayStatus, status).catch(() => undefined);
  }
}
