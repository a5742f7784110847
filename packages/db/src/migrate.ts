import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

import { createPool } from './connection';
import { DatabaseUnavailableError, MigrationError, redactUrl } from './errors';
import { migrationProvider } from './migrations';

export interface MigrationReport {
  databaseCreated: boolean;
  applied: string[];
}

function escapeIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the database named in `url` if it does not exist, connecting to the `postgres` maintenance
 * database of the same server. Concurrent callers are fine: a lost race shows up as "already exists".
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`DATABASE_URL ${redactUrl(url)} names no database`);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined); // a dropped connection surfaces as the failed query instead
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnavailableError(url, { cause: error });
  }
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount) return false;
    try {
      await client.query(`create database ${escapeIdentifier(name)}`);
      return true;
    } catch (error) {
      // Another process created it between our check and our create.
      const code = (error as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/** Creates the database if missing and applies every pending migration. Running it twice is a no-op. */
export async function migrateToLatest(url: string): Promise<MigrationReport> {
  const databaseCreated = await ensureDatabase(url);
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: createPool(url, { maxConnections: 2 }) }),
  });
  try {
    // Migrations are numbered per area (0002 strategy, 0003 execution, …) and may land in any order;
    // each touches its own tables, so applying a lower number after a higher one is safe.
    const migrator = new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((result) => result.status === 'Error');
      throw new MigrationError(failed?.migrationName, { cause: error });
    }
    return { databaseCreated, applied: (results ?? []).map((result) => result.migrationName) };
  } finally {
    await db.destroy();
  }
}

/** The schema is behind the code: a service must not run against it. */
export class SchemaOutdatedError extends Error {
  override readonly name = 'SchemaOutdatedError';
  constructor(readonly missing: readonly string[]) {
    super(
      `the database schema is missing migration(s) ${missing.join(', ')}: run \`npm run migrate\` (npm start does it)`,
    );
  }
}

/** Throws SchemaOutdatedError unless every migration this code knows has been applied. */
export async function assertSchemaCurrent<T>(db: Kysely<T>): Promise<void> {
  const known = Object.keys(await migrationProvider.getMigrations());
  const applied = await sql<{ name: string }>`select name from kysely_migration`
    .execute(db)
    .then((result) => new Set(result.rows.map((row) => row.name)))
    .catch(() => new Set<string>());
  const missing = known.filter((name) => !applied.has(name)).sort();
  if (missing.length > 0) throw new SchemaOutdatedError(missing);
}
