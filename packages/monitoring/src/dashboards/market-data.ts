import { buildDashboard } from './dashboard';
import { barGauge, stateTimeline, timeseries, upDownMapping } from './panels';

/** Market data from the ingestor: staleness, throughput, backfill and gap repair. */
export const marketDataDashboard = () =>
  buildDashboard({
    uid: 'ibstack-market-data',
    title: 'ibstack · Market data',
    description:
      'Staleness per instrument, ticks and bars per second, backfill progress, gaps and their repair, pacing.',
    rows: [
      [
        'Freshness',
        [
          barGauge({
            title: 'Seconds since the last tick (market open)',
            description:
              'Only instruments whose market is open; the ingestor counts more than STALE_AFTER_MS as stale.',
            unit: 's',
            queries: [
              {
                expr: '(time() - max by (instrument) (md_last_tick_unix)) and on (instrument) (max by (instrument) (md_market_open) == 1)',
                legend: '{{instrument}}',
                instant: true,
              },
            ],
            thresholds: [
              [null, 'green'],
              [30, 'orange'],
              [120, 'red'],
            ],
          }),
          stateTimeline({
            title: 'Market open',
            queries: [{ expr: 'max by (instrument) (md_market_open)', legend: '{{instrument}}' }],
            mappings: upDownMapping('open', 'closed'),
          }),
          timeseries({
            title: 'Staleness per instrument',
            description: "The ingestor's own measure: 0 while the market is closed.",
            unit: 's',
            span: 24,
            queries: [{ expr: 'max by (instrument) (md_staleness_seconds)', legend: '{{instrument}}' }],
            thresholds: [
              [null, 'green'],
              [30, 'red'],
            ],
          }),
        ],
      ],
      [
        'Throughput',
        [
          timeseries({
            title: 'Ticks per second',
            unit: 'ops',
            queries: [
              {
                expr: 'sum by (instrument) (rate(md_ticks_total[$__rate_interval]))',
                legend: '{{instrument}}',
              },
            ],
          }),
          timeseries({
            title: 'Bars per second',
            unit: 'ops',
            queries: [
              {
                expr: 'sum by (instrument, timeframe, source) (rate(md_bars_total[$__rate_interval]))',
                legend: '{{instrument}} {{timeframe}} {{source}}',
              },
            ],
          }),
          timeseries({
            title: 'Bar write time (p99) and queues',
            unit: 's',
            queries: [
              {
                expr: 'histogram_quantile(0.99, sum by (le, method) (rate(md_db_write_seconds_bucket[$__rate_interval])))',
                legend: 'p99 write {{method}}',
              },
            ],
          }),
          timeseries({
            title: 'Publish errors, dropped and invalid',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (reason) (increase(md_publish_errors_total[$__rate_interval]))',
                legend: 'publish error {{reason}}',
              },
              {
                expr: 'sum by (instrument) (increase(md_bars_dropped_total[$__rate_interval]))',
                legend: 'dropped {{instrument}}',
              },
              {
                expr: 'sum by (kind) (increase(md_invalid_total[$__rate_interval]))',
                legend: 'invalid {{kind}}',
              },
            ],
          }),
        ],
      ],
      [
        'History',
        [
          timeseries({
            title: 'Backfill progress',
            unit: 'percentunit',
            min: 0,
            max: 1,
            queries: [{ expr: 'max by (instrument) (md_backfill_progress_ratio)', legend: '{{instrument}}' }],
          }),
          timeseries({
            title: 'Gaps: minutes missing, repairs completed',
            unit: 'short',
            queries: [
              { expr: 'max by (instrument) (md_gap_missing_bars)', legend: 'missing minutes {{instrument}}' },
              {
                expr: 'sum by (instrument, reason) (increase(md_gap_repairs_total[$__rate_interval]))',
                legend: 'repaired {{instrument}} ({{reason}})',
              },
            ],
          }),
          timeseries({
            title: 'Historical bars received',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (instrument) (increase(md_backfill_bars_total[$__rate_interval]))',
                legend: '{{instrument}}',
              },
            ],
          }),
          timeseries({
            title: 'Historical requests by result, and pacing waits',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (result) (increase(md_backfill_requests_total[$__rate_interval]))',
                legend: '{{result}}',
              },
              {
                expr: 'sum(increase(md_pacing_waits_total[$__rate_interval]))',
                legend: 'held back by pacing',
              },
            ],
          }),
        ],
      ],
    ],
  });
