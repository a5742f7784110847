import { Bus, type BusEnv } from '@ibstack/bus';
import type { Logger, Registry } from '@ibstack/observability';

import { connectDatabase, type DatabaseHandle } from './connection';
import { assertSchemaCurrent } from './migrate';

/** A service's Postgres and NATS, connected; what each `create…Service` takes in its deps. */
export interface ServiceConnections {
  database: DatabaseHandle;
  bus: Bus;
  /** Closes NATS, then Postgres; call it after the service has stopped (stop() may still write). */
  close(): Promise<void>;
}

export interface ServiceConnectionOptions {
  /** Postgres `application_name`, and the NATS connection name unless `busName` says otherwise. */
  name: string;
  busName?: string;
  maxConnections?: number;
  /** Refuse to start against a schema that is behind the code's migrations. @default true */
  checkSchema?: boolean;
}

/**
 * Connects Postgres (checking the schema is current) and NATS (making sure the streams exist), failing
 * fast when either is down and closing what was opened when the other fails. Every service's
 * `adapters/connect.ts` goes through this, so `main.ts` and the tests boot the same wiring.
 */
export async function connectServiceStores(
  config: { DATABASE_URL: string } & BusEnv,
  deps: { logger: Logger; registry: Registry },
  options: ServiceConnectionOptions,
): Promise<ServiceConnections> {
  const database = await connectDatabase(config.DATABASE_URL, {
    applicationName: options.name,
    maxConnections: options.maxConnections,
    onError: (error) => deps.logger.warn({ err: error }, 'postgres connection error'),
  });
  try {
    if (options.checkSchema ?? true) await assertSchemaCurrent(database.db);
    const bus = await Bus.connectService(options.busName ?? options.name, config, deps);
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
