import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

import { DatabaseUnavailableError } from './errors';
import type { Database } from './schema';

const INT8_OID = 20;

/** Parses int8 to number; numeric (oid 1700) stays a string so money stays exact. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  }) as typeof pg.types.getTypeParser,
};

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly pool: pg.Pool;
  /** One round trip (`select 1`): true, or the connection error (what a readiness check asks). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** @default 10 */
  maxConnections?: number;
  applicationName?: string;
  /** Called for pool-level errors (a dropped idle connection); without it they are swallowed by pg. */
  onError?: (error: Error) => void;
}

export function createPool(url: string, options: ConnectOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5_000,
    types,
  });
  // An idle client's error must not crash the process; the next query reconnects.
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}

/** Opens a pool and checks it with one query, so a missing database fails at start with a clear message. */
export async function connectDatabase(url: string, options: ConnectOptions = {}): Promise<DatabaseHandle> {
  const pool = createPool(url, options);
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(url, { cause: error });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    ping: async () => {
      await pool.query('select 1');
      return true;
    },
    // Kysely's destroy ends the pool it was given.
    close: () => db.destroy(),
  };
}
