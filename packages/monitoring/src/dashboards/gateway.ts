import { buildDashboard } from './dashboard';
import { stat, stateTimeline, timeseries, upDownMapping, valueMapping } from './panels';

/** The IB gateway: the supervisor's login state, our API sessions, reconnects and the reset windows. */
export const gatewayDashboard = () =>
  buildDashboard({
    uid: 'ibstack-gateway',
    title: 'ibstack · Gateway',
    description:
      'Gateway state over time (gateway supervisor), readiness probe, API sessions of ingestor and execution, reconnects, heartbeat timeouts, competing sessions, two-factor waits.',
    rows: [
      [
        'Now',
        [
          stat({
            title: 'Gateway state',
            showName: true,
            queries: [{ expr: 'max by (state) (gateway_state == 1)', legend: '{{state}}' }],
            thresholds: [[null, 'blue']],
          }),
          stat({
            title: 'Readiness probe',
            queries: [{ expr: 'max(gateway_ready)', legend: 'ready' }],
            mappings: upDownMapping('ready', 'not ready'),
          }),
          stat({
            title: 'Reset window',
            description:
              "Inside one of IBKR's reset windows for the account's region: disconnects are expected.",
            queries: [{ expr: 'max(gateway_in_reset_window)', legend: 'window' }],
            mappings: valueMapping({ 1: ['inside', 'orange'], 0: ['outside', 'green'] }),
          }),
          stat({
            title: 'Time in this state',
            unit: 's',
            queries: [{ expr: 'max(gateway_state_duration_seconds)', legend: 'duration' }],
            thresholds: [[null, 'blue']],
          }),
          stat({
            title: 'Last login',
            unit: 'dateTimeFromNow',
            queries: [{ expr: 'max(gateway_last_login_unix) * 1000', legend: 'last login' }],
            thresholds: [[null, 'blue']],
          }),
          stat({
            title: 'Logins, last 24 h',
            decimals: 0,
            queries: [{ expr: 'sum(increase(gateway_logins_total[1d]))', legend: 'logins' }],
            thresholds: [
              [null, 'green'],
              [3, 'orange'],
            ],
          }),
        ],
      ],
      [
        'Over time',
        [
          stateTimeline({
            title: 'Gateway state',
            span: 24,
            height: 6,
            queries: [{ expr: 'max by (state) (gateway_state)', legend: '{{state}}' }],
            // One row per state: coloured while it is the current one.
            mappings: valueMapping({ 1: ['current', 'blue'], 0: ['', 'transparent'] }),
          }),
          stateTimeline({
            title: 'API sessions (ingestor, execution lease holder) and the broker link',
            span: 24,
            height: 6,
            queries: [
              { expr: 'min by (job, instance) (ib_connection_up)', legend: 'session {{job}} {{instance}}' },
              {
                expr: 'min by (job, instance) (ib_broker_connectivity_up)',
                legend: 'IBKR link {{job}} {{instance}}',
              },
            ],
            mappings: upDownMapping('up', 'down'),
          }),
          timeseries({
            title: 'Reconnects and failed attempts',
            unit: 'short',
            bars: true,
            queries: [
              {
                expr: 'sum by (job) (increase(ib_reconnect_total[$__rate_interval]))',
                legend: 'reconnects {{job}}',
              },
              {
                expr: 'sum by (job) (increase(ib_reconnect_failures_total[$__rate_interval]))',
                legend: 'failed {{job}}',
              },
            ],
          }),
          timeseries({
            title: 'Heartbeat timeouts',
            description: 'Sessions dropped because the gateway stopped answering reqCurrentTime.',
            unit: 'short',
            bars: true,
            queries: [
              {
                expr: 'sum by (job) (increase(ib_heartbeat_timeouts_total[$__rate_interval]))',
                legend: '{{job}}',
              },
            ],
          }),
          timeseries({
            title: 'Competing sessions',
            description: 'Another login to the same IBKR user took the session (10197).',
            unit: 'short',
            bars: true,
            queries: [
              { expr: 'max(gateway_state{state="competing_session"})', legend: 'competing session (state)' },
              {
                expr: 'sum(increase(ib_api_errors_total{code="10197"}[$__rate_interval]))',
                legend: '10197 notices',
              },
            ],
          }),
          timeseries({
            title: 'Waiting for the two-factor confirmation',
            unit: 's',
            queries: [{ expr: 'max(gateway_two_factor_pending_seconds)', legend: 'waiting' }],
            thresholds: [
              [null, 'green'],
              [60, 'orange'],
              [180, 'red'],
            ],
            thresholdLines: true,
          }),
          timeseries({
            title: 'Readiness probe duration',
            unit: 's',
            queries: [
              {
                expr: 'histogram_quantile(0.5, sum by (le) (rate(gateway_probe_duration_seconds_bucket[$__rate_interval])))',
                legend: 'p50',
              },
              {
                expr: 'histogram_quantile(0.99, sum by (le) (rate(gateway_probe_duration_seconds_bucket[$__rate_interval])))',
                legend: 'p99',
              },
            ],
          }),
          timeseries({
            title: 'Gateway notices and errors by code',
            unit: 'short',
            queries: [
              { expr: 'sum by (code) (increase(ib_api_errors_total[$__rate_interval]))', legend: '{{code}}' },
            ],
          }),
        ],
      ],
    ],
  });
