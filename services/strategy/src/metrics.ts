import { counter, gauge, histogram, type Registry } from '@ibstack/observability';

/** The strategy's metrics; names and labels in full words, as dashboards and alerts read them. */
export function strategyMetrics(registry: Registry) {
  return {
    barsProcessed: counter(registry, 'strategy_bars_processed_total', 'Bars run through the sleeves', [
      'instrument',
      'timeframe',
    ]),
    barsSkipped: counter(
      registry,
      'strategy_bars_skipped_total',
      'Bars a sleeve had already processed (redelivered after a restart)',
      ['sleeve'],
    ),
    staleBars: counter(
      registry,
      'strategy_stale_bar_decisions_total',
      'Bars too old when processed: the sleeve updated its state but sent no order',
      ['sleeve'],
    ),
    barSeconds: histogram(
      registry,
      'strategy_bar_processing_seconds',
      'Time to run a bar through the sleeves, risk, the commit and the intent publish',
    ),
    intents: counter(registry, 'strategy_intents_total', 'Order intents by outcome', ['sleeve', 'status']),
    riskBlocked: counter(registry, 'risk_blocked_total', 'Intents stopped by pre-trade risk', [
      'sleeve',
      'reason',
    ]),
    sleevePaused: gauge(
      registry,
      'strategy_sleeve_paused',
      '1 while a sleeve is paused after its strategy failed',
      ['sleeve'],
    ),
    pendingIntents: gauge(registry, 'strategy_pending_intents', 'Accepted intents whose order is not done', [
      'sleeve',
    ]),
    outboxPublished: counter(
      registry,
      'strategy_outbox_published_total',
      'Accepted intents published by the outbox sweep (a publish had failed or the process died)',
    ),
    sleeveExposurePct: gauge(
      registry,
      'sleeve_exposure_pct',
      'Gross exposure of a sleeve as % of its capital',
      ['sleeve'],
    ),
    sleevePnlUsd: gauge(
      registry,
      'sleeve_pnl_usd',
      'Realized plus unrealized P&L of a sleeve, less commissions',
      ['sleeve'],
    ),
    grossExposureUsd: gauge(
      registry,
      'portfolio_gross_exposure_usd',
      'Sum of absolute net positions over instruments',
    ),
    netExposureUsd: gauge(
      registry,
      'portfolio_net_exposure_usd',
      'Sum of signed net positions over instruments',
    ),
    accountSnapshotTime: gauge(
      registry,
      'strategy_account_snapshot_unix',
      'Time of the latest account snapshot the loss and drawdown rules use',
    ),
  };
}
export type StrategyMetrics = ReturnType<typeof strategyMetrics>;
