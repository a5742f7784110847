/**
 * The gateway supervisor: one per stack. Feeds the session state machine (domain/session-state) from its
 * own persistent API session (IB codes), a readiness probe with another dedicated client id, IBGA's log
 * when configured, the other services' `sys.gateway.status` (326 and 10197 they see) and the clock; then
 * publishes `GatewayHealth` on `sys.gateway.health` at every change and as a heartbeat, and exports the
 * `gateway_*` metrics.
 *
 * The handling of competing sessions is kept to facts (state `competing_session`, with who reported it),
 * so the failover (issue 16) can act on them: keep a standby's gateway logged out, kick a former primary.
 */
import type { Bus, ConsumerHandle } from '@ibstack/bus';
import { resolveTradingMode } from '@ibstack/config';
import { type GatewayHealth, topics } from '@ibstack/contracts';
import { IbConnection } from '@ibstack/ib';
import type { Logger, Registry } from '@ibstack/observability';

import { probeGateway } from './adapters/readiness-probe';
import { LogTail } from './adapters/log-tail';
import { type GatewaySupervisorConfig, logPatternsOf, resetWindowsOf } from './config';
import {
  type GatewayEvent,
  initialState,
  nextState,
  type SupervisorRules,
  type SupervisorState,
} from './domain/session-state';
import { DEFAULT_WEEKLY_REAUTH } from './domain/weekly-reauth';
import { ALL_STATES, gatewayMetrics } from './metrics';

export const SERVICE = 'gateway-supervisor';

/** IB codes of our own session that move the state machine. */
const SESSION_CODES = new Set([1100, 1101, 1102, 2110, 326, 10197]);
/** Codes other services report on sys.gateway.status that we take over. */
const PEER_CODES = new Set([326, 10197]);
/** A peer status older than this (a replay after a restart) says nothing about now. */
const PEER_STATUS_MAX_AGE_MS = 120_000;

export interface GatewaySupervisorServiceDeps {
  logger: Logger;
  registry: Registry;
  bus: Bus;
  /** Epoch ms. @default Date.now */
  clock?: () => number;
}

export interface GatewaySupervisor {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): GatewayHealth;
  isStarted(): boolean;
  /** Feeds one event (tests and a future failover controller use the same door). */
  apply(event: GatewayEvent): void;
}

export function createGatewaySupervisorService(
  config: GatewaySupervisorConfig,
  deps: GatewaySupervisorServiceDeps,
): GatewaySupervisor {
  const { logger, registry, bus } = deps;
  const now = deps.clock ?? Date.now;
  const log = logger.child({ component: SERVICE });
  const metrics = gatewayMetrics(registry);
  const mode = resolveTradingMode(config);
  const tradingMode = mode.ok ? mode.mode : 'paper';
  const rules: SupervisorRules = {
    region: config.SERVER_REGION,
    resetWindows: resetWindowsOf(config),
    weeklyReauth: { ...DEFAULT_WEEKLY_REAUTH, deadlineHour: config.WEEKLY_REAUTH_DEADLINE_HOUR },
    logPatterns: logPatternsOf(config),
    disconnectGraceMs: config.DISCONNECT_GRACE_MS,
    restoredSettleMs: config.RESTORED_SETTLE_MS,
    conflictHoldMs: config.CONFLICT_HOLD_MS,
  };
  let state: SupervisorState = initialState(now());
  let started = false;
  let stopping = false;
  const timers: NodeJS.Timeout[] = [];
  let probing: Promise<void> = Promise.resolve();
  let peers: ConsumerHandle | undefined;
  let tail: LogTail | undefined;
  const connection = new IbConnection({
    host: config.IB_HOST,
    port: config.IB_PORT,
    clientId: config.IB_CLIENT_ID,
    logger,
    registry,
    backoff: { initialDelayMs: 500, maxDelayMs: 15_000 },
  });

  const iso = (ms: number) => new Date(ms).toISOString();
  const health = (): GatewayHealth => {
    const message: GatewayHealth = {
      v: 1,
      state: state.state,
      since: iso(state.since),
      inResetWindow: state.inResetWindow,
      ready: state.ready,
      tradingMode,
      escalated: state.escalated,
      ts: iso(now()),
    };
    if (state.previous) message.previous = state.previous;
    if (state.lastProbeAt !== undefined) message.lastProbeAt = iso(state.lastProbeAt);
    if (state.probeLatencyMs !== undefined) message.probeLatencyMs = state.probeLatencyMs;
    if (state.code !== undefined) message.code = state.code;
    if (state.detail) message.detail = state.detail.slice(0, 500);
    if (state.accounts) message.accounts = [...state.accounts];
    if (state.lastLoginAt !== undefined) message.lastLoginAt = iso(state.lastLoginAt);
    if (state.resetWindow) message.resetWindow = state.resetWindow;
    return message;
  };

  const publish = () => {
    if (stopping) return;
    bus
      .publish(topics.gatewayHealth, health())
      .catch((error: unknown) => log.warn({ err: error }, 'could not publish the gateway health'));
  };

  const updateMetrics = (before: SupervisorState) => {
    const at = now();
    for (const name of ALL_STATES) metrics.state.set({ state: name }, name === state.state ? 1 : 0);
    metrics.stateDuration.set((at - state.since) / 1000);
    metrics.twoFactorPending.set(state.state === 'two_factor_pending' ? (at - state.since) / 1000 : 0);
    if (state.logins > before.logins) metrics.logins.inc(state.logins - before.logins);
    if (state.lastLoginAt !== undefined) metrics.lastLogin.set(state.lastLoginAt / 1000);
    metrics.ready.set(state.ready ? 1 : 0);
    if (state.lastProbeAt !== undefined) metrics.lastProbe.set(state.lastProbeAt / 1000);
    metrics.inResetWindow.set(state.inResetWindow ? 1 : 0);
    metrics.escalated.set(state.escalated ? 1 : 0);
  };

  const apply = (event: GatewayEvent) => {
    const before = state;
    state = nextState(state, event, rules);
    updateMetrics(before);
    const changed =
      before.state !== state.state ||
      before.ready !== state.ready ||
      before.escalated !== state.escalated ||
      before.inResetWindow !== state.inResetWindow;
    if (!changed) return;
    if (before.state !== state.state) {
      const level = state.state === 'logged_in' ? 'info' : 'warn';
      log[level](
        { from: before.state, to: state.state, code: state.code, detail: state.detail },
        `gateway ${state.state.replace(/_/g, ' ')}`,
      );
    }
    publish();
  };

  const probeOnce = async () => {
    const started = now();
    const event = await probeGateway({
      host: config.IB_HOST,
      port: config.IB_PORT,
      clientId: config.PROBE_CLIENT_ID,
      timeoutMs: config.PROBE_TIMEOUT_MS,
      now,
    });
    metrics.probeDuration.observe((now() - started) / 1000);
    if (!stopping) apply(event);
  };
  const probe = () => {
    probing = probing.then(probeOnce).catch((error: unknown) => log.error({ err: error }, 'probe failed'));
    return probing;
  };

  connection.on('ready', ({ accounts }) => apply({ type: 'session_ready', at: now(), accounts }));
  connection.on('ibError', (error) => {
    if (SESSION_CODES.has(error.code))
      apply({
        type: 'ib_code',
        at: now(),
        code: error.code,
        message: error.message,
        source: SERVICE,
        own: true,
      });
  });

  return {
    apply,
    health,
    isStarted: () => started,
    async start() {
      updateMetrics(state);
      peers = await bus.consume(topics.gatewayStatus, {
        durable: SERVICE,
        deliverFrom: { policy: 'new' },
        maxDeliver: 3,
        handler: async (status) => {
          if (status.service === SERVICE || status.code === undefined || !PEER_CODES.has(status.code)) return;
          if (now() - Date.parse(status.ts) > PEER_STATUS_MAX_AGE_MS) return;
          apply({
            type: 'ib_code',
            at: now(),
            code: status.code,
            message: status.message ?? `IB code ${status.code}`,
            source: status.service,
            own: false,
          });
          await Promise.resolve();
        },
      });
      if (config.IBGA_LOG_FILE) {
        tail = new LogTail(
          config.IBGA_LOG_FILE,
          (line) => apply({ type: 'log_line', at: now(), line }),
          config.LOG_POLL_INTERVAL_MS,
        );
        await tail.start();
      }
      connection.start();
      timers.push(setInterval(() => apply({ type: 'tick', at: now() }), config.TICK_INTERVAL_MS));
      timers.push(setInterval(() => void probe(), config.PROBE_INTERVAL_MS));
      timers.push(setInterval(publish, config.HEARTBEAT_INTERVAL_MS));
      for (const timer of timers) timer.unref();
      void probe();
      started = true;
      publish();
      log.info(
        {
          gateway: `${config.IB_HOST}:${config.IB_PORT}`,
          region: config.SERVER_REGION,
          logFile: config.IBGA_LOG_FILE,
        },
        'gateway supervisor started',
      );
    },
    async stop() {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      tail?.stop();
      await peers?.stop();
      await probing;
      await connection.stop();
      started = false;
    },
  };
}
