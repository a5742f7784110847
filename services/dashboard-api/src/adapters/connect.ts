import { connectServiceStores, type ServiceConnections } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import type { DashboardConfig } from '../config';

/** Postgres and NATS, connected, as `createDashboardService` takes them. */
export type DashboardConnections = ServiceConnections;

/** Connects Postgres (schema checked) and NATS (streams ensured); `main.ts` and the tests both use it. */
export async function connectDashboard(
  config: Pick<DashboardConfig, 'DATABASE_URL' | 'NATS_URL' | 'NATS_REPLICAS' | 'BUS_NAMESPACE'>,
  deps: { logger: Logger; registry: Registry },
): Promise<DashboardConnections> {
  return connectServiceStores(config, deps, { name: 'dashboard-api' });
}
