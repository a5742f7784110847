import type { SingleKeyKv } from '@ibstack/bus';
import { KV_BUCKETS, Lease, LeaseMark } from '@ibstack/contracts';
import { connectServiceStores, type ServiceConnections } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import type { ExecutionConfig } from '../config';

/** Postgres, NATS and the lease bucket, connected, as `createExecutionService` takes them. */
export interface ExecutionConnections extends ServiceConnections {
  /** KV `leases`, its TTL brought to LEASE_TTL_MS. */
  leaseKv: SingleKeyKv<Lease>;
  /** KV `lease-mark`: the last grant of the lease, kept after the lease aged out (see lease.ts). */
  leaseMarks: SingleKeyKv<LeaseMark>;
}

/**
 * Connects Postgres (checking the schema is current) and NATS (making sure the streams exist), and opens
 * the lease buckets. `main.ts` and the tests both connect through this, so they boot the same wiring.
 */
export async function connectExecution(
  config: Pick<
    ExecutionConfig,
    'DATABASE_URL' | 'NATS_URL' | 'NATS_REPLICAS' | 'BUS_NAMESPACE' | 'INSTANCE_ID' | 'LEASE_TTL_MS'
  >,
  deps: { logger: Logger; registry: Registry },
): Promise<ExecutionConnections> {
  const connections = await connectServiceStores(config, deps, {
    name: 'execution',
    busName: `execution-${config.INSTANCE_ID}`,
  });
  try {
    // Opening the bucket also brings its TTL to LEASE_TTL_MS when it was created with another one.
    const leaseKv = await connections.bus.singleKeyKv('leases', Lease, {
      ttlMs: config.LEASE_TTL_MS,
      // A renewal fails fast and is retried within the holder's margin (a KV leader election).
      operationTimeoutMs: Math.max(500, Math.min(5_000, Math.floor(config.LEASE_TTL_MS / 5))),
    });
    const leaseMarks = await connections.bus.singleKeyKv(KV_BUCKETS.leaseMark, LeaseMark);
    return { ...connections, leaseKv, leaseMarks };
  } catch (error) {
    await connections.close().catch(() => undefined);
    throw error;
  }
}
