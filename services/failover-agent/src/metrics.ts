import { Counter, Gauge, type Registry } from '@ibstack/observability';

export function failoverMetrics(registry: Registry) {
  return {
    leaseHeld: new Gauge({
      name: 'failover_lease_held',
      help: '1 while this host’s execution holds the execution lease',
      registers: [registry],
    }),
    leaseEpoch: new Gauge({
      name: 'failover_lease_epoch',
      help: 'Epoch of the execution lease as this host sees it (a change is a takeover)',
      registers: [registry],
    }),
    inRecovery: new Gauge({
      name: 'failover_postgres_in_recovery',
      help: '1 while this host’s Postgres is a replica, 0 when it is a primary, -1 when it does not answer',
      registers: [registry],
    }),
    readOnly: new Gauge({
      name: 'failover_postgres_read_only',
      help: '1 while this host’s Postgres is fenced read-only (another host holds the lease)',
      registers: [registry],
    }),
    streaming: new Gauge({
      name: 'failover_replication_streaming',
      help: '1 while replication streams (a replica from this primary, or this replica from its primary)',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'failover_replication_lag_seconds',
      help: 'How far the replica’s replay is behind the primary',
      registers: [registry],
    }),
    natsCurrent: new Gauge({
      name: 'failover_nats_current',
      help: '1 while this host’s NATS node is healthy and current with the cluster',
      registers: [registry],
    }),
    standbyReady: new Gauge({
      name: 'failover_standby_ready',
      help: '1 while a standby could take over now (its replica streams and its NATS node is current)',
      registers: [registry],
    }),
    demotionPending: new Gauge({
      name: 'failover_demotion_pending',
      help: '1 while this host’s Postgres is a fenced former primary waiting to be rewound into a replica',
      registers: [registry],
    }),
    conflict: new Gauge({
      name: 'failover_lease_conflict',
      help: '1 while the lease names a database this host’s is ahead of or foreign to: nothing is rewound',
      registers: [registry],
    }),
    timeline: new Gauge({
      name: 'failover_postgres_timeline',
      help: 'The timeline this host’s writable Postgres writes on (a promotion starts a later one)',
      registers: [registry],
    }),
    steps: new Counter({
      name: 'failover_steps_total',
      help: 'Failover steps taken, by step and result',
      labelNames: ['step', 'result'],
      registers: [registry],
    }),
    handshake: new Gauge({
      name: 'wireguard_peer_last_handshake_timestamp_seconds',
      help: 'Unix time of the latest WireGuard handshake with each peer (wg show), 0 when none yet',
      labelNames: ['peer'],
      registers: [registry],
    }),
  };
}
export type FailoverMetrics = ReturnType<typeof failoverMetrics>;
