import type { Logger } from '@ibstack/observability';

import { AccountRiskMonitor } from './account-risk';
import { BarPipeline } from './bar-pipeline';
import { MarketPrices } from './domain/prices';
import { BarProgress } from './domain/progress';
import { SleeveBook } from './domain/sleeve-book';
import { IntentEmitter } from './intent-emitter';
import { IntentPublisher } from './intent-publisher';
import type { StrategyMetrics } from './metrics';
import { OrderTracker } from './order-tracker';
import { IntentOutbox } from './outbox';
import type { Clock, StrategyEvents, StrategyStore } from './ports';
import { SleeveMetrics } from './sleeve-metrics';
import { SleevePauser } from './sleeve-pauser';
import { SleeveRunners } from './sleeve-runners';
import type { SleevesConfig } from './sleeves/config';

export interface StrategyCoreOptions {
  sleeves: SleevesConfig;
  /** A bar processed later than this after its close updates the strategy but sends no order. */
  maxBarDelayMs: number;
  /** An unpublished intent older than this is expired instead of sent late. */
  intentMaxAgeMs: number;
  /** An accepted intent execution never acknowledged stops counting as in flight after this. */
  pendingTtlMs: number;
  /** Keep the exposure and P&L gauges current on every bar. @default true */
  exportSleeveGauges?: boolean;
}

export interface StrategyCoreDeps {
  store: StrategyStore;
  events: StrategyEvents;
  log: Logger;
  metrics: StrategyMetrics;
  clock: Clock;
  /** True once the owner is stopping: a failing store write then gives up instead of retrying. */
  isStopping: () => boolean;
  /** The `service` of system events. */
  service: string;
  /**
   * Called before orders are checked against the latest account snapshot: a caller that holds snapshots
   * back while they cannot change anything but that check (the backtest) hands over the latest here.
   * @default nothing: the service hands each snapshot over as it arrives
   */
  accountSnapshotDue?: () => Promise<void>;
}

/** The strategy's parts, wired to each other: what runs bars, ticks, fills and account snapshots. */
export interface StrategyCore {
  readonly book: SleeveBook;
  readonly progress: BarProgress;
  readonly prices: MarketPrices;
  readonly runners: SleeveRunners;
  readonly pauser: SleevePauser;
  readonly sleeveMetrics: SleeveMetrics;
  readonly account: AccountRiskMonitor;
  readonly tracker: OrderTracker;
  readonly outbox: IntentOutbox;
  readonly publisher: IntentPublisher;
  readonly pipeline: BarPipeline;
}

/**
 * Builds the pipeline from its ports alone (store, event sink, clock), so the service (Postgres and NATS)
 * and the backtest (memory and a simulated venue) run the very same sleeves, sizing and risk.
 */
export function createStrategyCore(options: StrategyCoreOptions, deps: StrategyCoreDeps): StrategyCore {
  const { store, events, log, metrics, clock, isStopping, service, accountSnapshotDue } = deps;
  const book = new SleeveBook();
  const progress = new BarProgress();
  const prices = new MarketPrices(options.sleeves.instruments.values(), options.sleeves.fxRatesToUsd);
  const runners = new SleeveRunners(options.sleeves.sleeves);
  const pauser = new SleevePauser(runners.all, { events, log, metrics, clock, service });
  const sleeveMetrics = new SleeveMetrics({
    runners: runners.all,
    book,
    prices,
    metrics,
    log,
    enabled: options.exportSleeveGauges ?? true,
  });
  const account = new AccountRiskMonitor({
    events,
    store,
    log,
    metrics,
    clock,
    limits: options.sleeves.accountRisk,
    service,
  });
  const publisher = new IntentPublisher({ events, store, log, clock });
  const outbox = new IntentOutbox({
    store,
    book,
    publisher,
    metrics,
    log,
    clock,
    sleeves: runners.names,
    intentMaxAgeMs: options.intentMaxAgeMs,
  });
  const tracker = new OrderTracker({
    store,
    book,
    runners,
    prices,
    pauser,
    sleeveMetrics,
    metrics,
    log,
    clock,
    pendingTtlMs: options.pendingTtlMs,
  });
  const emitter = new IntentEmitter({
    events,
    store,
    book,
    prices,
    tracker,
    publisher,
    latestAccount: () => account.latest(),
    accountSnapshotDue,
    runners: runners.all,
    metrics,
    log,
    clock,
    isStopping,
  });
  const pipeline = new BarPipeline({
    runners,
    book,
    prices,
    progress,
    emitter,
    pauser,
    sleeveMetrics,
    metrics,
    log,
    clock,
    maxBarDelayMs: options.maxBarDelayMs,
  });
  return {
    book,
    progress,
    prices,
    runners,
    pauser,
    sleeveMetrics,
    account,
    tracker,
    outbox,
    publisher,
    pipeline,
  };
}
