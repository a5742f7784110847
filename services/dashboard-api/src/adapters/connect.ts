import { Bus } from '@ibstack/bus';
import { assertSchemaCurrent, connectDatabase, type DatabaseHandle } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import type { DashboardConfig } from '../config';

/** Postgres and NATS, connected, as `createDashboardService` takes them. */
export interface DashboardConnections {
  database: DatabaseHandle;
  bus: Bus;
  /** Closes both; call it after the service has stopped. */
  close(): Promise<void>;
}

/**
 * Connects Postgres (checking the schema is current) and NATS (making sure the streams exist). `main.ts`
 * and the tests both connect through this, so they boot the same wiring.
 */
export async function connectDashboard(
  config: Pick<DashboardConfig, 'DATABASE_URL' | 'NATS_URL' | 'NATS_REPLICAS' | 'BUS_NAMESPACE'>,
  deps: { logger: Logger; registry: Registry },
): Promise<DashboardConnections> {
  const database = await connectDatabase(config.DATABASE_URL, {
    applicationName: 'dashboard-api',
    onError: (error) => deps.logger.warn({ err: error }, 'postgres connection error'),
  });
  try {
    await assertSchemaCurrent(database.db);
    const bus = await Bus.connectService('dashboard-api', config, deps);
    return {
      database,
      bus,
      async close() {
        await bus.close().catch((error: unknown) => deps.logger.warn({ err: error }, 'closing NATS failed'));
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}
