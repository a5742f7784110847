import { Bus } from '@ibstack/bus';
import { connectDatabase, type DatabaseHandle } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import type { IngestorConfig } from '../config';

/** Postgres and NATS, connected, as `createIngestorService` takes them. */
export interface IngestorConnections {
  database: DatabaseHandle;
  bus: Bus;
  /** Closes both; call it after the service has stopped (its last batch goes to Postgres on stop). */
  close(): Promise<void>;
}

/**
 * Connects Postgres and NATS (failing fast when either is down) and makes sure the streams exist. `main.ts`
 * and the tests both connect through this, so they boot the same wiring.
 */
export async function connectIngestor(
  config: Pick<IngestorConfig, 'DATABASE_URL' | 'NATS_URL' | 'NATS_REPLICAS' | 'BUS_NAMESPACE'>,
  deps: { logger: Logger; registry: Registry },
): Promise<IngestorConnections> {
  // A few connections: live batches, backfill chunks (COPY) and the request log write side by side.
  const database = await connectDatabase(config.DATABASE_URL, {
    applicationName: 'ingestor',
    maxConnections: 6,
    onError: (error) => deps.logger.warn({ err: error }, 'postgres connection error'),
  });
  let bus: Bus;
  try {
    bus = await Bus.connectService('ingestor', config, deps);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return {
    database,
    bus,
    async close() {
      await bus.close().catch((error: unknown) => deps.logger.warn({ err: error }, 'closing NATS failed'));
      await database.close();
    },
  };
}
