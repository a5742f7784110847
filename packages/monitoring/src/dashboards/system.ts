import { buildDashboard } from './dashboard';
import { stateTimeline, timeseries, upDownMapping } from './panels';

const filesystems = 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"';

/** Processes, NATS, Postgres and the host. */
export const systemDashboard = () =>
  buildDashboard({
    uid: 'ibstack-system',
    title: 'ibstack · System',
    description:
      'Each service up, its memory, CPU and event-loop lag; NATS; Postgres; host CPU, memory and disk.',
    rows: [
      [
        'Services',
        [
          stateTimeline({
            title: 'Up',
            span: 24,
            height: 6,
            queries: [{ expr: 'max by (job) (up)', legend: '{{job}}' }],
            mappings: upDownMapping('up', 'down'),
          }),
          timeseries({
            title: 'Resident memory',
            unit: 'bytes',
            queries: [
              { expr: 'max by (job) (process_resident_memory_bytes{role="trading"})', legend: '{{job}}' },
            ],
          }),
          timeseries({
            title: 'CPU',
            unit: 'percentunit',
            queries: [
              {
                expr: 'sum by (job) (rate(process_cpu_seconds_total{role="trading"}[$__rate_interval]))',
                legend: '{{job}}',
              },
            ],
          }),
          timeseries({
            title: 'Event-loop lag (p99)',
            unit: 's',
            thresholdLines: true,
            thresholds: [
              [null, 'green'],
              [0.5, 'red'],
            ],
            queries: [{ expr: 'max by (job) (nodejs_eventloop_lag_p99_seconds)', legend: '{{job}}' }],
          }),
          timeseries({
            title: 'Starts in the last hour',
            unit: 'short',
            queries: [
              {
                expr: 'max by (job) (changes(process_start_time_seconds{role="trading"}[1h]))',
                legend: '{{job}}',
              },
            ],
          }),
        ],
      ],
      [
        'NATS',
        [
          timeseries({
            title: 'Connected to NATS',
            unit: 'short',
            max: 1,
            queries: [{ expr: 'min by (job) (bus_connected)', legend: '{{job}}' }],
          }),
          timeseries({
            title: 'Messages published and consumed per second',
            unit: 'ops',
            queries: [
              {
                expr: 'sum by (job) (rate(bus_published_total[$__rate_interval]))',
                legend: 'published {{job}}',
              },
              {
                expr: 'sum by (job) (rate(bus_messages_consumed_total[$__rate_interval]))',
                legend: 'consumed {{job}}',
              },
            ],
          }),
          timeseries({
            title: 'Consumer lag',
            unit: 'short',
            queries: [
              {
                expr: 'max by (consumer) (bus_consumer_pending_messages)',
                legend: 'undelivered {{consumer}}',
              },
              {
                expr: 'max by (consumer) (bus_consumer_ack_pending_messages)',
                legend: 'unacknowledged {{consumer}}',
              },
            ],
          }),
          timeseries({
            title: 'Dead letters and handler errors',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (consumer, reason) (increase(bus_dead_letters_total[$__rate_interval]))',
                legend: 'dead letter {{consumer}} {{reason}}',
              },
              {
                expr: 'sum by (consumer) (increase(bus_handler_errors_total[$__rate_interval]))',
                legend: 'handler error {{consumer}}',
              },
            ],
          }),
          timeseries({
            title: 'NATS server: connections and messages',
            unit: 'short',
            queries: [
              { expr: 'max(gnatsd_varz_connections)', legend: 'connections' },
              { expr: 'sum(rate(gnatsd_varz_in_msgs[$__rate_interval]))', legend: 'messages in / s' },
              { expr: 'sum(rate(gnatsd_varz_out_msgs[$__rate_interval]))', legend: 'messages out / s' },
              { expr: 'max(gnatsd_varz_slow_consumers)', legend: 'slow consumers' },
            ],
          }),
          timeseries({
            title: 'JetStream storage',
            unit: 'bytes',
            queries: [
              { expr: 'max(jetstream_server_total_message_bytes)', legend: 'stored' },
              { expr: 'max(gnatsd_varz_mem)', legend: 'server memory' },
            ],
          }),
        ],
      ],
      [
        'Postgres',
        [
          stateTimeline({
            title: 'Postgres up',
            queries: [{ expr: 'max(pg_up)', legend: 'postgres' }],
            mappings: upDownMapping('up', 'down'),
          }),
          timeseries({
            title: 'Connections and transactions',
            unit: 'short',
            queries: [
              {
                expr: 'sum by (datname) (pg_stat_database_numbackends{datname!~"template.*"})',
                legend: 'connections {{datname}}',
              },
              {
                expr: 'sum by (datname) (rate(pg_stat_database_xact_commit{datname!~"template.*"}[$__rate_interval]))',
                legend: 'commits/s {{datname}}',
              },
            ],
          }),
          timeseries({
            title: 'Database size',
            unit: 'bytes',
            span: 24,
            queries: [
              {
                expr: 'max by (datname) (pg_database_size_bytes{datname!~"template.*"})',
                legend: '{{datname}}',
              },
            ],
          }),
        ],
      ],
      [
        'Host',
        [
          timeseries({
            title: 'CPU busy',
            unit: 'percentunit',
            min: 0,
            max: 1,
            span: 8,
            queries: [
              {
                expr: '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))',
                legend: '{{instance}}',
              },
            ],
          }),
          timeseries({
            title: 'Memory used',
            unit: 'percentunit',
            min: 0,
            max: 1,
            span: 8,
            queries: [
              {
                expr: '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes',
                legend: '{{instance}}',
              },
            ],
          }),
          timeseries({
            title: 'Disk used',
            unit: 'percentunit',
            min: 0,
            max: 1,
            span: 8,
            thresholdLines: true,
            thresholds: [
              [null, 'green'],
              [0.9, 'red'],
            ],
            queries: [
              {
                expr: `1 - node_filesystem_avail_bytes{${filesystems}} / node_filesystem_size_bytes{${filesystems}}`,
                legend: '{{mountpoint}}',
              },
            ],
          }),
        ],
      ],
    ],
  });
