/**
 * Metrics our rules and dashboards read from prometheus-nats-exporter, which Debian does not package, so
 * tests cannot run it. Names as its collectors build them: `gnatsd_varz_<field>` from the numeric fields
 * of the server's /varz (the exporter's own collector test checks connections, in_msgs, out_msgs …;
 * `mem` and `slow_consumers` are /varz fields too), and `jetstream_server_*` from collector/jsz.go
 * (`-jsz`). Compose runs it with `-varz -jsz=all`. Node and Postgres exporter metrics are checked
 * against the real Debian binaries instead.
 */
export const NATS_EXPORTER_METRICS: readonly string[] = [
  'gnatsd_varz_connections',
  'gnatsd_varz_in_msgs',
  'gnatsd_varz_out_msgs',
  'gnatsd_varz_slow_consumers',
  'gnatsd_varz_mem',
  'jetstream_server_total_message_bytes',
];

/** Series Prometheus makes itself for every target. */
export const PROMETHEUS_SYNTHETIC_METRICS: readonly string[] = ['up', 'scrape_duration_seconds'];
