import { connectServiceStores, type ServiceConnections } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import type { IngestorConfig } from '../config';

/** Postgres and NATS, connected, as `createIngestorService` takes them (its last batch is written on stop). */
export type IngestorConnections = ServiceConnections;

/** Connects Postgres and NATS (streams ensured), failing fast when either is down. */
export async function connectIngestor(
  config: Pick<IngestorConfig, 'DATABASE_URL' | 'NATS_URL' | 'NATS_REPLICAS' | 'BUS_NAMESPACE'>,
  deps: { logger: Logger; registry: Registry },
): Promise<IngestorConnections> {
  // A few connections: live batches, backfill chunks (COPY) and the request log write side by side. The
  // schema is not checked here, as before: the ingestor only appends to tables of the first migration.
  return connectServiceStores(config, deps, { name: 'ingestor', maxConnections: 6, checkSchema: false });
}
