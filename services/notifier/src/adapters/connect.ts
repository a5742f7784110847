import { connectServiceStores, type ServiceConnections } from '@ibstack/db';
import type { Logger, Registry } from '@ibstack/observability';

import type { NotifierConfig } from '../config';

/** Postgres and NATS, connected, as `createNotifierService` takes them. */
export type NotifierConnections = ServiceConnections;

/** Connects Postgres (schema checked) and NATS (streams ensured); `main.ts` and the tests both use it. */
export async function connectNotifier(
  config: Pick<NotifierConfig, 'DATABASE_URL' | 'NATS_URL' | 'NATS_REPLICAS' | 'BUS_NAMESPACE'>,
  deps: { logger: Logger; registry: Registry },
): Promise<NotifierConnections> {
  return connectServiceStores(config, deps, { name: 'notifier', maxConnections: 5 });
}
