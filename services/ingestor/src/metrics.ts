import { counter, gauge, histogram, type Registry } from '@ibstack/observability';

/**
 * The ingestor's metrics. Staleness is `time() - md_last_tick_unix{instrument}`, gated by
 * `md_market_open{instrument} == 1` in an alert; `md_staleness_seconds` is the same, computed here and
 * already 0 while the market is closed.
 */
export function ingestorMetrics(registry: Registry) {
  return {
    ticks: counter(registry, 'md_ticks_total', 'Ticks published', ['instrument']),
    bars: counter(registry, 'md_bars_total', 'Bars published, live and backfilled', [
      'instrument',
      'timeframe',
      'source',
    ]),
    lastTick: gauge(registry, 'md_last_tick_unix', 'Unix time (our clock) of the last tick received', [
      'instrument',
    ]),
    lastBar: gauge(registry, 'md_last_bar_unix', 'Unix open time (market clock) of the newest 1-minute bar', [
      'instrument',
    ]),
    staleness: gauge(
      registry,
      'md_staleness_seconds',
      'Seconds without a tick while the market is open; 0 while it is closed',
      ['instrument'],
    ),
    staleAfter: gauge(
      registry,
      'md_stale_after_seconds',
      'No tick for this long while the market is open counts as stale (STALE_AFTER_MS); the alert rule reads it',
    ),
    marketOpen: gauge(registry, 'md_market_open', '1 while the instrument trades (contract trading hours)', [
      'instrument',
    ]),
    backfillProgress: gauge(
      registry,
      'md_backfill_progress_ratio',
      'Share of the current backfill or gap repair done (1 when idle)',
      ['instrument'],
    ),
    backfillBars: counter(registry, 'md_backfill_bars_total', 'Bars received from historical requests', [
      'instrument',
    ]),
    backfillRequests: counter(
      registry,
      'md_backfill_requests_total',
      'Historical requests by result (ok, refused, timeout, disconnected)',
      ['instrument', 'result'],
    ),
    gapChecks: counter(
      registry,
      'md_gap_checks_total',
      'Gap checks of the stored series (each may lead to requests)',
      ['instrument'],
    ),
    gapRepairs: counter(
      registry,
      'md_gap_repairs_total',
      'Backfills and gap repairs that found minutes missing and ran to the end, by what started them',
      ['instrument', 'reason'],
    ),
    gapMinutes: gauge(
      registry,
      'md_gap_missing_bars',
      '1-minute bars of open market missing from the stored series at the last gap check',
      ['instrument'],
    ),
    abandonedMinutes: gauge(
      registry,
      'md_history_abandoned_bars',
      '1-minute bars of open market whose history the gateway kept refusing; not asked again until a restart',
      ['instrument'],
    ),
    pacingWaits: counter(
      registry,
      'md_pacing_waits_total',
      'Historical requests held back by the pacing limiter',
    ),
    pacingWaitSeconds: counter(
      registry,
      'md_pacing_wait_seconds_total',
      'Time historical requests spent waiting for the pacing limiter',
    ),
    pacingRecentRequests: gauge(
      registry,
      'md_pacing_recent_requests',
      'Historical requests (by IB weight) the pacing limiter counts in its longest window, at the last change',
    ),
    pacingRestoredRequests: gauge(
      registry,
      'md_pacing_restored_requests',
      'Historical requests (by IB weight) sent by an earlier run that the pacing limiter started from',
    ),
    publishErrors: counter(registry, 'md_publish_errors_total', 'Publishes to NATS that failed', [
      'topic',
      'reason',
    ]),
    databaseErrors: counter(registry, 'md_db_errors_total', 'Postgres operations that failed', ['operation']),
    databaseWriteSeconds: histogram(
      registry,
      'md_db_write_seconds',
      'Duration of one bar batch write',
      ['method'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    ),
    barRetryQueueLength: gauge(
      registry,
      'md_bar_publish_retry_queue_length',
      'Bars whose publish to JetStream failed, waiting to be sent again',
    ),
    barQueueLength: gauge(registry, 'md_bar_queue_length', 'Live bars waiting to be written to Postgres'),
    barsDropped: counter(
      registry,
      'md_bars_dropped_total',
      'Live bars dropped from a full write queue (the gap repair fetches them again)',
      ['instrument'],
    ),
    invalid: counter(registry, 'md_invalid_total', 'Ticks and bars dropped as invalid', [
      'instrument',
      'kind',
    ]),
    unknownInstruments: counter(
      registry,
      'md_unknown_instruments_total',
      'Configured instruments the gateway has no contract for',
      ['instrument'],
    ),
    subscribed: gauge(registry, 'md_subscribed', '1 while the instrument has live subscriptions', [
      'instrument',
    ]),
  };
}
export type IngestorMetrics = ReturnType<typeof ingestorMetrics>;
