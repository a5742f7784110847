/**
 * The failover agent: one per trading host. It watches the execution lease (NATS KV, replicated over
 * the three-node cluster) and keeps this host's Postgres in the role the lease gives it — promoted when
 * this host's execution holds the lease, fenced read-only and then rewound into a replica when another
 * host does — and brings the gateway up after a promotion. It never decides who trades: execution's
 * lease does (a quorum write), and the agent follows.
 */
import { performance } from 'node:perf_hooks';

import type { Bus, SingleKeyKv } from '@ibstack/bus';
import { type FailoverStep, KV_KEYS, Lease, nowIso, topics } from '@ibstack/contracts';
import type { Logger, Registry } from '@ibstack/observability';

import { runCommand } from './adapters/commands';
import { natsNodeCurrent } from './adapters/nats-health';
import { LocalPostgres } from './adapters/postgres';
import { readWireGuard } from './adapters/wireguard';
import type { FailoverAgentConfig } from './config';
import { type Action, decide, type LeaseView, type Observation } from './domain/decide';
import { failoverMetrics, type FailoverMetrics } from './metrics';

export const SERVICE = 'failover-agent';

export interface FailoverAgentDeps {
  logger: Logger;
  registry: Registry;
  bus: Bus;
}

export interface FailoverStatus {
  host: string;
  lease: LeaseView | null;
  postgres: Observation['postgres'];
  lastAction: Action['kind'];
  demotionPending: boolean;
}

export interface FailoverAgent {
  start(): Promise<void>;
  stop(): Promise<void>;
  isStarted(): boolean;
  status(): FailoverStatus;
  readonly metrics: FailoverMetrics;
}

const WIREGUARD_READ_INTERVAL_MS = 10_000;

export function createFailoverAgent(config: FailoverAgentConfig, deps: FailoverAgentDeps): FailoverAgent {
  const log = deps.logger;
  const metrics = failoverMetrics(deps.registry);
  const postgres = new LocalPostgres(config.DATABASE_URL, (error) =>
    log.debug({ err: error }, 'postgres connection error'),
  );
  let leases: SingleKeyKv<Lease> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let started = false;
  let busy: Promise<void> | null = null;
  let again = false;
  let takeoverPending = false;
  let sideTimer: NodeJS.Timeout | undefined;
  let lastWireGuardRead = -Infinity;
  let stoodDown = false;
  let status: FailoverStatus = {
    host: config.FAILOVER_HOST,
    lease: null,
    postgres: { inRecovery: null, readOnly: false, systemId: null, timeline: null },
    lastAction: 'none',
    demotionPending: false,
  };

  const record = async (
    step: FailoverStep,
    epoch: number,
    startedAt: number,
    detail = '',
    holder?: string,
  ) => {
    metrics.steps.inc({ step, result: step === 'failed' ? 'failed' : 'ok' });
    const message = {
      v: 1 as const,
      recordId: `${config.FAILOVER_HOST}:${step}:${epoch}${step === 'failed' ? `:${Date.now()}` : ''}`,
      host: config.FAILOVER_HOST,
      step,
      epoch,
      ...(holder ? { leaseHolder: holder } : {}),
      detail: detail.slice(-2_000),
      durationMs: Math.max(0, Math.round(performance.now() - startedAt)),
      ts: nowIso(),
    };
    log.info({ record: message }, `failover: ${step}`);
    await deps.bus
      .publish(topics.failover, message)
      .catch((error: unknown) =>
        log.warn({ err: error, step }, 'could not publish the failover record (logged above)'),
      );
  };

  const readLease = async (): Promise<LeaseView | null | undefined> => {
    try {
      const entry = await leases!.get(KV_KEYS.executionLease);
      if (!entry) return null;
      const { holder, epoch, postgres: held } = entry.value;
      return held ? { holder, epoch, postgres: held } : { holder, epoch };
    } catch (error) {
      // Cut off from the cluster: the lease is unknown, and nothing is done on a guess.
      log.debug({ err: error }, 'could not read the lease');
      return undefined;
    }
  };

  /** Once per other holder's lease: this host's gateway and trading services stop. */
  const standDown = async (epoch: number, why: string) => {
    if (stoodDown || !config.FAILOVER_STANDDOWN_COMMAND) return;
    stoodDown = true;
    const startedAt = performance.now();
    const result = await runCommand(
      config.FAILOVER_STANDDOWN_COMMAND,
      { host: config.FAILOVER_HOST },
      config.FAILOVER_COMMAND_TIMEOUT_MS,
    );
    if (result.code !== 0) {
      stoodDown = false;
      await record('failed', epoch, startedAt, `standdown command (${why}): ${result.output}`);
    } else log.warn({ why }, 'stood this host’s gateway and trading services down');
  };

  const act = async (action: Action): Promise<void> => {
    const startedAt = performance.now();
    switch (action.kind) {
      case 'none':
        return;
      case 'conflict':
        // Logged on every look while it lasts, as the metric: nothing is done to either database.
        log.error({ holder: action.holder, epoch: action.epoch }, `failover: hands off: ${action.reason}`);
        return;
      case 'promote':
        log.warn({ epoch: action.epoch }, 'this host holds the lease: promoting its Postgres');
        await postgres.promote();
        await postgres.setReadOnly(false);
        takeoverPending = true;
        await record('promoted', action.epoch, startedAt, '', config.FAILOVER_HOST);
        return;
      case 'unfence':
        await postgres.setReadOnly(false);
        log.info({ epoch: action.epoch }, 'this host holds the lease: its Postgres takes writes again');
        return;
      case 'takeover': {
        takeoverPending = false;
        const result = await runCommand(
          config.FAILOVER_TAKEOVER_COMMAND!,
          { host: config.FAILOVER_HOST },
          config.FAILOVER_COMMAND_TIMEOUT_MS,
        );
        if (result.code === 0) await record('gateway_started', action.epoch, startedAt, result.output);
        else await record('failed', action.epoch, startedAt, `takeover command: ${result.output}`);
        return;
      }
      case 'fence':
        log.warn(
          { holder: action.holder, epoch: action.epoch },
          'another host holds the lease: fencing Postgres',
        );
        await postgres.setReadOnly(true);
        await record('fenced', action.epoch, startedAt, '', action.holder);
        return;
      case 'rejoin': {
        const source = config.FAILOVER_REPLICATION_SOURCES?.[action.holder];
        if (!source) {
          await record('failed', action.epoch, startedAt, `no replication source for ${action.holder}`);
          return;
        }
        log.warn({ holder: action.holder }, 'rewinding this former primary into a replica');
        const result = await runCommand(
          config.FAILOVER_REJOIN_COMMAND!,
          { source, slot: config.FAILOVER_HOST, host: config.FAILOVER_HOST },
          config.FAILOVER_COMMAND_TIMEOUT_MS,
        );
        if (result.code === 0) await record('demoted', action.epoch, startedAt, result.output, action.holder);
        else
          await record('failed', action.epoch, startedAt, `rejoin command: ${result.output}`, action.holder);
        return;
      }
    }
  };

  let lastView: Observation['postgres'] = {
    inRecovery: null,
    readOnly: false,
    systemId: null,
    timeline: null,
  };
  /** Replication, NATS and WireGuard health: on a timer of their own, so they never delay a decision. */
  const observeSideMetrics = async () => {
    const inRecovery = lastView.inRecovery;
    const natsCurrent = await natsNodeCurrent(config.NATS_MONITOR_URL);
    metrics.natsCurrent.set(natsCurrent ? 1 : 0);
    let streaming = false;
    if (inRecovery !== null) {
      const replication = await postgres.replication(inRecovery).catch(() => null);
      streaming = replication?.streaming ?? false;
      metrics.streaming.set(streaming ? 1 : 0);
      if (replication?.lagSeconds !== null && replication?.lagSeconds !== undefined)
        metrics.lag.set(Math.max(0, replication.lagSeconds));
    } else metrics.streaming.set(0);
    // Seen from the holder: a replica streams from it; seen from the standby: it streams itself.
    metrics.standbyReady.set(streaming && natsCurrent ? 1 : 0);
    if (config.WIREGUARD_INTERFACE && performance.now() - lastWireGuardRead >= WIREGUARD_READ_INTERVAL_MS) {
      lastWireGuardRead = performance.now();
      try {
        for (const peer of await readWireGuard(config.WIREGUARD_INTERFACE))
          metrics.handshake.set({ peer: peer.address }, peer.latestHandshake);
      } catch (error) {
        log.warn({ err: error }, 'could not read WireGuard');
      }
    }
  };

  const step = async () => {
    const lease = await readLease();
    const view = await postgres.view();
    const known = lease === undefined ? status.lease : lease;
    const observation: Observation = {
      host: config.FAILOVER_HOST,
      lease: lease === undefined ? null : lease,
      postgres: view,
      takeoverPending,
      canRejoin: config.FAILOVER_REJOIN_COMMAND !== undefined,
      hasTakeoverCommand: config.FAILOVER_TAKEOVER_COMMAND !== undefined,
    };
    const action = decide(observation);
    if (lease && lease.holder === config.FAILOVER_HOST) stoodDown = false;
    // Only a lease seen held by another host stands this host down: a host merely cut off (or slow to
    // read) keeps its services, whose writes need the cluster anyway, and its execution stops sending by
    // its own clock.
    else if (lease && lease.holder !== config.FAILOVER_HOST)
      await standDown(lease.epoch, `${lease.holder} holds the lease`);
    metrics.leaseHeld.set(known?.holder === config.FAILOVER_HOST && lease !== undefined ? 1 : 0);
    if (known) metrics.leaseEpoch.set(known.epoch);
    metrics.inRecovery.set(view.inRecovery === null ? -1 : view.inRecovery ? 1 : 0);
    metrics.readOnly.set(view.readOnly ? 1 : 0);
    metrics.demotionPending.set(action.kind === 'none' && action.demotionPending ? 1 : 0);
    metrics.conflict.set(action.kind === 'conflict' ? 1 : 0);
    if (view.timeline !== null) metrics.timeline.set(view.timeline);
    status = {
      host: config.FAILOVER_HOST,
      lease: known,
      postgres: view,
      lastAction: action.kind,
      demotionPending: action.kind === 'none' && action.demotionPending,
    };
    try {
      await act(action);
    } catch (error) {
      log.error({ err: error, action }, 'failover step failed; retrying');
      if (action.kind !== 'none' && action.kind !== 'conflict')
        await record(
          'failed',
          action.epoch,
          performance.now(),
          `${action.kind}: ${(error as Error).message}`,
        );
    }
    lastView = view;
  };

  /** One step at a time; a kick while busy runs one more step right after. */
  const kick = (): void => {
    if (!running) return;
    if (busy) {
      again = true;
      return;
    }
    busy = step()
      .catch((error: unknown) => log.error({ err: error }, 'failover step failed'))
      .finally(() => {
        busy = null;
        if (again) {
          again = false;
          kick();
        }
      });
  };

  const watchLease = async () => {
    try {
      const watcher = await leases!.kv.raw.watch({ key: KV_KEYS.executionLease });
      for await (const _entry of watcher) {
        if (!running) {
          watcher.stop();
          break;
        }
        kick();
      }
    } catch (error) {
      if (running) log.debug({ err: error }, 'lease watch ended; polling goes on');
    }
  };

  return {
    metrics,
    isStarted: () => started,
    status: () => status,
    async start() {
      // Read as execution writes it: by the bucket stream's sequence (see SingleKeyKv).
      leases = await deps.bus.singleKeyKv('leases', Lease, { ttlMs: config.LEASE_TTL_MS });
      running = true;
      started = true;
      void watchLease();
      const loop = () => {
        kick();
        timer = setTimeout(loop, config.FAILOVER_CHECK_INTERVAL_MS);
      };
      loop();
      const side = () => {
        void observeSideMetrics()
          .catch((error: unknown) => log.warn({ err: error }, 'could not read replication or NATS health'))
          .finally(() => {
            if (running) sideTimer = setTimeout(side, Math.max(config.FAILOVER_CHECK_INTERVAL_MS, 1_000));
          });
      };
      side();
      log.info({ host: config.FAILOVER_HOST }, 'failover agent started');
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      if (sideTimer) clearTimeout(sideTimer);
      await busy;
      await postgres.close();
    },
  };
}
