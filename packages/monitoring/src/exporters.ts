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

/**
 * From Prometheus' blackbox exporter probing the reverse proxy (job proxy-tls): not part of `npm start`;
 * infra/proxy/test/proxy.int.test.ts scrapes each of them from Debian's exporter probing the real proxy.
 */
export const BLACKBOX_EXPORTER_METRICS: readonly string[] = [
  'probe_success',
  'probe_ssl_earliest_cert_expiry',
];

/**
 * From the backup service (services/backup; compose only, not `npm start`); its integration test reads
 * each of them from the running service's registry.
 */
export const BACKUP_SERVICE_METRICS: readonly string[] = [
  'backup_interval_seconds',
  'backup_last_success_timestamp_seconds',
  'backup_last_size_bytes',
  'backup_kept',
  'backup_last_run_success',
  'backup_last_duration_seconds',
  'backup_runs_total',
];

/**
 * From the failover agent (services/failover-agent; runs only on failover hosts, not under the local
 * stack of the inventory test); its own test reads each of them from the running agent's registry.
 */
export const FAILOVER_AGENT_METRICS: readonly string[] = [
  'failover_lease_held',
  'failover_lease_epoch',
  'failover_postgres_in_recovery',
  'failover_postgres_read_only',
  'failover_replication_streaming',
  'failover_replication_lag_seconds',
  'failover_nats_current',
  'failover_standby_ready',
  'failover_demotion_pending',
  'failover_lease_conflict',
  'failover_postgres_timeline',
  'failover_steps_total',
  'wireguard_peer_last_handshake_timestamp_seconds',
];
