import { buildDashboard } from './dashboard';
import { barGauge, heatmap, stat, timeseries } from './panels';

/** What execution sent, what filled, what was rejected and why, and how fast the broker answered. */
export const ordersDashboard = () =>
  buildDashboard({
    uid: 'ibstack-orders',
    title: 'ibstack · Orders',
    description:
      'Orders submitted, filled and rejected (by reason), the rejection rate against 5 %, order latency.',
    rows: [
      [
        'In the selected range',
        [
          stat({
            title: 'Submitted',
            queries: [{ expr: 'sum(increase(ib_orders_submitted_total[$__range]))', legend: 'submitted' }],
            decimals: 0,
            thresholds: [[null, 'blue']],
          }),
          stat({
            title: 'Filled',
            queries: [{ expr: 'sum(increase(ib_orders_filled_total[$__range]))', legend: 'filled' }],
            decimals: 0,
            thresholds: [[null, 'green']],
          }),
          stat({
            title: 'Rejected',
            queries: [
              { expr: 'sum(increase(ib_orders_rejected_total[$__range])) or vector(0)', legend: 'rejected' },
            ],
            decimals: 0,
            thresholds: [
              [null, 'green'],
              [1, 'orange'],
            ],
          }),
          stat({
            title: 'Rejection rate, last hour',
            unit: 'percentunit',
            queries: [{ expr: 'ibstack:orders_rejected:ratio_1h', legend: '1 h' }],
            thresholds: [
              [null, 'green'],
              [0.05, 'orange'],
              [0.2, 'red'],
            ],
          }),
          stat({
            title: 'Rejection rate, 30 days',
            description: 'The go-live criterion we were given: at most 5 % over the paper-trading period.',
            unit: 'percentunit',
            queries: [{ expr: 'ibstack:orders_rejected:ratio_30d', legend: '30 d' }],
            thresholds: [
              [null, 'green'],
              [0.05, 'red'],
            ],
          }),
          stat({
            title: 'Order latency p50 (acknowledged)',
            unit: 's',
            queries: [
              {
                expr: 'histogram_quantile(0.5, sum by (le) (increase(ib_order_latency_seconds_bucket{stage="acknowledged"}[$__range])))',
                legend: 'p50',
              },
            ],
            thresholds: [
              [null, 'green'],
              [1, 'orange'],
            ],
          }),
        ],
      ],
      [
        'Flow',
        [
          timeseries({
            title: 'Orders submitted per minute',
            unit: 'short',
            bars: true,
            stacked: true,
            queries: [
              {
                expr: 'sum by (instrument, side) (rate(ib_orders_submitted_total[$__rate_interval])) * 60',
                legend: '{{instrument}} {{side}}',
              },
            ],
          }),
          timeseries({
            title: 'Orders filled per minute',
            unit: 'short',
            bars: true,
            stacked: true,
            queries: [
              {
                expr: 'sum by (instrument, side) (rate(ib_orders_filled_total[$__rate_interval])) * 60',
                legend: '{{instrument}} {{side}}',
              },
            ],
          }),
          timeseries({
            title: 'Rejections per minute by reason',
            description:
              'Numbers are IB error codes (201, 110, …); words are refusals before sending (risk, stale intent).',
            unit: 'short',
            bars: true,
            stacked: true,
            queries: [
              {
                expr: 'sum by (reason) (rate(ib_orders_rejected_total[$__rate_interval])) * 60',
                legend: '{{reason}}',
              },
            ],
          }),
          barGauge({
            title: 'Rejections by reason in the selected range',
            queries: [
              {
                expr: 'sort_desc(sum by (reason) (increase(ib_orders_rejected_total[$__range])))',
                legend: '{{reason}}',
                instant: true,
              },
            ],
            decimals: 0,
            thresholds: [[null, 'orange']],
          }),
          timeseries({
            title: 'Rejection rate against the 5 % criterion',
            unit: 'percentunit',
            min: 0,
            span: 24,
            thresholdLines: true,
            thresholds: [
              [null, 'green'],
              [0.05, 'red'],
            ],
            queries: [
              { expr: 'ibstack:orders_rejected:ratio_1h', legend: 'last hour' },
              { expr: 'ibstack:orders_rejected:ratio_30d', legend: 'last 30 days' },
            ],
          }),
        ],
      ],
      [
        'Latency and errors',
        [
          heatmap({
            title: 'Order latency: placeOrder → acknowledged',
            unit: 's',
            queries: [
              {
                expr: 'sum by (le) (increase(ib_order_latency_seconds_bucket{stage="acknowledged"}[$__rate_interval]))',
                heatmap: true,
              },
            ],
          }),
          timeseries({
            title: 'Order latency quantiles',
            unit: 's',
            queries: [
              {
                expr: 'histogram_quantile(0.5, sum by (le, stage) (rate(ib_order_latency_seconds_bucket[$__rate_interval])))',
                legend: 'p50 {{stage}}',
              },
              {
                expr: 'histogram_quantile(0.99, sum by (le, stage) (rate(ib_order_latency_seconds_bucket[$__rate_interval])))',
                legend: 'p99 {{stage}}',
              },
            ],
          }),
          timeseries({
            title: 'Intents by outcome (strategy)',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (status) (rate(strategy_intents_total[$__rate_interval])) * 60',
                legend: '{{status}}',
              },
            ],
          }),
          timeseries({
            title: 'Intents blocked by risk (strategy)',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (reason) (rate(risk_blocked_total[$__rate_interval])) * 60',
                legend: '{{reason}}',
              },
            ],
          }),
          timeseries({
            title: 'Gateway API errors by code',
            unit: 'short',
            span: 24,
            queries: [
              {
                expr: 'sum by (code, kind) (rate(ib_api_errors_total{job="execution"}[$__rate_interval])) * 60',
                legend: '{{code}} ({{kind}})',
              },
            ],
          }),
        ],
      ],
    ],
  });
