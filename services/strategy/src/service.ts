import type { Bus, ConsumerHandle } from '@ibstack/bus';
import { Mutex, nowIso } from '@ibstack/contracts';
import type { Database, Kysely } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import type { AccountRiskMonitor } from './account-risk';
import { StrategyBus } from './adapters/nats-bus';
import { PgStrategyStore } from './adapters/pg-store';
import type { BarPipeline } from './bar-pipeline';
import type { MarketPrices } from './domain/prices';
import type { BarProgress } from './domain/progress';
import type { SleeveBook } from './domain/sleeve-book';
import { ServiceStoppingError } from './errors';
import type { IntentPublisher } from './intent-publisher';
import { strategyMetrics } from './metrics';
import type { OrderTracker } from './order-tracker';
import type { IntentOutbox } from './outbox';
import type { SleeveMetrics } from './sleeve-metrics';
import type { SleevePauser } from './sleeve-pauser';
import type { SleeveRunners } from './sleeve-runners';
import type { SleevesConfig } from './sleeves/config';
import { StartGate } from './start-gate';
import { createStrategyCore } from './strategy-core';
import { warmUp } from './warm-up';

export interface StrategyServiceOptions {
  sleeves: SleevesConfig;
  /** How long JetStream waits for a bar's ack before redelivering it. @default 15000 */
  barAckWaitMs?: number;
  /**
   * A bar processed later than this after its close updates the strategy but sends no order: a decision
   * on an old price (after downtime, a backlog) is not one to act on now. @default 120000
   */
  maxBarDelayMs?: number;
  /** How often the outbox sweep looks for accepted intents that were never published. @default 5000 */
  outboxIntervalMs?: number;
  /** An unpublished intent older than this is expired instead of sent late. @default 120000 */
  intentMaxAgeMs?: number;
  /** An accepted intent execution never acknowledged stops counting as in flight after this. @default 900000 */
  pendingTtlMs?: number;
}

export interface StrategyServiceDeps {
  db: Kysely<Database>;
  bus: Bus;
  logger: Logger;
  registry: Registry;
  /** Epoch ms. @default Date.now */
  clock?: () => number;
}

export interface SleeveStatus {
  name: string;
  strategy: string;
  paused: string | null;
  positions: Record<string, string>;
  pending: Record<string, string>;
  /** Last processed bar per instrument (ISO), from the in-memory progress. */
  progress: Record<string, string>;
  state: Record<string, unknown> | null;
}

export interface StrategyService {
  /** Warms up, starts consuming; resolves once the service is live. */
  start(): Promise<void>;
  /** Stops consuming after the bar in hand is finished. */
  stop(): Promise<void>;
  isStarted(): boolean;
  /** NATS connected, Postgres answering, started. */
  isReady(): Promise<boolean>;
  status(): SleeveStatus[];
  /** Publishes accepted intents that never were (runs on start and every outboxIntervalMs). */
  sweepOutbox(): Promise<{ published: number; expired: number }>;
}

const SERVICE = 'strategy';

export function createStrategyService(
  options: StrategyServiceOptions,
  deps: StrategyServiceDeps,
): StrategyService {
  return new StrategyEngine(options, deps);
}

/**
 * The strategy engine: wires the parts and runs their lifecycle. Per bar: each subscribed sleeve's strategy
 * decides, decisions become sized orders, orders pass pre-trade risk, and the bar's intents and progress
 * are committed in one transaction before the accepted intents are published.
 *
 * Invariants:
 * - A sleeve processes each bar of an instrument and timeframe once, in order: progress is stored with
 *   the bar's intents, bars at or before it are acknowledged and skipped, and each bar consumer has one
 *   message in flight.
 * - Store first, publish second. An accepted intent without `published_at` is published by the outbox
 *   sweep (at start and periodically), or expired if it has grown too old to act on.
 * - Bars, ticks and outbox sweeps run one at a time (the mutex): a sleeve's decisions, risk view and
 *   in-flight quantities never interleave.
 * - A failing strategy pauses its own sleeve; no other sleeve notices.
 */
class StrategyEngine implements StrategyService {
  private readonly store: PgStrategyStore;
  private readonly bus: StrategyBus;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly mutex = new Mutex();
  private readonly book: SleeveBook;
  private readonly progress: BarProgress;
  private readonly runners: SleeveRunners;
  private readonly gate: StartGate;
  private readonly pauser: SleevePauser;
  private readonly sleeveMetrics: SleeveMetrics;
  private readonly account: AccountRiskMonitor;
  private readonly tracker: OrderTracker;
  private readonly outbox: IntentOutbox;
  private readonly publisher: IntentPublisher;
  private readonly pipeline: BarPipeline;
  private readonly prices: MarketPrices;
  private readonly consumers: ConsumerHandle[] = [];
  private started = false;
  private stopping = false;
  private outboxTimer: NodeJS.Timeout | undefined;
  private readonly barAckWaitMs: number;
  private readonly outboxIntervalMs: number;

  constructor(options: StrategyServiceOptions, deps: StrategyServiceDeps) {
    this.store = new PgStrategyStore(deps.db);
    this.bus = new StrategyBus(deps.bus, deps.db);
    this.log = deps.logger;
    this.clock = deps.clock ?? Date.now;
    this.barAckWaitMs = options.barAckWaitMs ?? 15_000;
    this.outboxIntervalMs = options.outboxIntervalMs ?? 5_000;
    this.gate = new StartGate(Math.max(250, Math.floor(this.barAckWaitMs / 3)));
    const core = createStrategyCore(
      {
        sleeves: options.sleeves,
        maxBarDelayMs: options.maxBarDelayMs ?? 120_000,
        intentMaxAgeMs: options.intentMaxAgeMs ?? 120_000,
        pendingTtlMs: options.pendingTtlMs ?? 900_000,
      },
      {
        store: this.store,
        events: this.bus,
        log: this.log,
        metrics: strategyMetrics(deps.registry),
        clock: this.clock,
        isStopping: () => this.stopping,
        service: SERVICE,
      },
    );
    this.book = core.book;
    this.progress = core.progress;
    this.prices = core.prices;
    this.runners = core.runners;
    this.pauser = core.pauser;
    this.sleeveMetrics = core.sleeveMetrics;
    this.account = core.account;
    this.tracker = core.tracker;
    this.outbox = core.outbox;
    this.publisher = core.publisher;
    this.pipeline = core.pipeline;
  }

  isStarted(): boolean {
    return this.started;
  }

  async isReady(): Promise<boolean> {
    if (!this.started || !this.bus.isConnected()) return false;
    return this.store.ping().catch(() => false);
  }

  async start(): Promise<void> {
    const now = this.clock();
    await this.runners.createStrategies((runner, error) =>
      this.pauser.pause(runner, 'create', error, nowIso(this.clock)),
    );

    // Consumers first: a new durable starts "now", so creating it before reading Postgres leaves no gap.
    // Their handlers wait at the gate until warm-up is done.
    const { gate, mutex, pipeline, tracker, account } = this;
    for (const { instrument, timeframe } of this.runners.bars()) {
      this.consumers.push(
        await this.bus.consumeBars(
          instrument,
          timeframe,
          (bar, context) => gate.pass(context, () => mutex.run(() => pipeline.processBar(bar))),
          this.barAckWaitMs,
        ),
      );
    }
    for (const instrument of this.runners.tickInstruments()) {
      this.consumers.push(
        await this.bus.consumeTicks(instrument, (tick, context) =>
          gate.pass(context, () => mutex.run(() => pipeline.processTick(tick))),
        ),
      );
    }
    this.consumers.push(
      await this.bus.consumeFills((fill, context) => gate.pass(context, () => tracker.onFill(fill))),
    );
    this.consumers.push(
      await this.bus.consumeOrderEvents((event, context) =>
        gate.pass(context, () => tracker.onOrderEvent(event)),
      ),
    );
    this.consumers.push(
      await this.bus.consumeAccountSnapshots((snapshot, context) =>
        gate.pass(context, () => account.onSnapshot(snapshot)),
      ),
    );

    await tracker.restore(now);
    await warmUp({
      store: this.store,
      runners: this.runners.all,
      progress: this.progress,
      prices: this.prices,
      book: this.book,
      pauser: this.pauser,
      log: this.log,
      clock: this.clock,
    });
    const snapshot = await this.store.latestAccountSnapshot();
    if (snapshot) await account.onSnapshot(snapshot);
    await this.sweepOutbox();

    this.started = true;
    gate.open();
    this.outboxTimer = setInterval(() => void this.housekeeping(), this.outboxIntervalMs);
    this.outboxTimer.unref();
    this.sleeveMetrics.update();
    this.log.info(
      {
        sleeves: this.runners.all.map((r) => ({
          name: r.config.name,
          strategy: r.config.strategy.name,
          paused: r.paused,
        })),
      },
      'strategy service started',
    );
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.outboxTimer) clearInterval(this.outboxTimer);
    this.gate.close(new ServiceStoppingError());
    // Each consumer finishes the message in hand (its handler runs to the end) before it stops.
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await this.mutex.idle();
    await this.publisher.marked();
    this.started = false;
    this.log.info('strategy service stopped');
  }

  status(): SleeveStatus[] {
    return this.runners.all.map((runner) => {
      const progress: Record<string, string> = {};
      for (const instrument of runner.config.instruments) {
        const done = this.progress.lastBar(runner.config.name, instrument.key, runner.config.timeframe);
        if (done !== undefined) progress[instrument.key] = new Date(done).toISOString();
      }
      return {
        name: runner.config.name,
        strategy: runner.config.strategy.name,
        paused: runner.paused,
        positions: this.book.positions(runner.config.name),
        pending: this.book.pendingBySleeve(runner.config.name),
        progress,
        state: runner.strategy?.inspect?.() ?? null,
      };
    });
  }

  sweepOutbox(): Promise<{ published: number; expired: number }> {
    return this.mutex.run(() => this.outbox.sweep());
  }

  private async housekeeping(): Promise<void> {
    try {
      await this.sweepOutbox();
      this.tracker.expireUnacknowledged();
    } catch (error) {
      this.log.error({ err: error }, 'outbox sweep failed');
    }
  }
}
