/**
 * Postgres for backups: connection settings for pg_dump and pg_restore through libpq's environment and a
 * password file (never the command line), the database's facts for the manifest, and dropping and
 * creating a database for a restore.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

export interface LibpqConnection {
  /** PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSFILE … for a child process. */
  readonly env: NodeJS.ProcessEnv;
  readonly database: string;
  /** Removes the password file. */
  dispose(): void;
}

/** `\` and `:` are special in a .pgpass line. */
const pgpassField = (value: string) => value.replace(/\\/g, '\\\\').replace(/:/g, '\\:');

export function libpqConnection(url: string, database?: string): LibpqConnection {
  const parsed = new URL(url);
  const name = database ?? decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const host = decodeURIComponent(parsed.hostname) || 'localhost';
  const port = parsed.port || '5432';
  const user = decodeURIComponent(parsed.username) || 'postgres';
  const env: NodeJS.ProcessEnv = {
    PGHOST: host,
    PGPORT: port,
    PGUSER: user,
    PGDATABASE: name,
    PGAPPNAME: 'ibstack-backup',
    PGCONNECT_TIMEOUT: '10',
  };
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  let directory: string | undefined;
  if (parsed.password) {
    directory = mkdtempSync(join(tmpdir(), 'ibstack-pgpass-'));
    const file = join(directory, 'pgpass');
    writeFileSync(
      file,
      `${['*', '*', '*', '*'].map(pgpassField).join(':')}:${pgpassField(decodeURIComponent(parsed.password))}\n`,
      { mode: 0o600 },
    );
    chmodSync(file, 0o600);
    env.PGPASSFILE = file;
  } else {
    env.PGPASSWORD = '';
  }
  return {
    env,
    database: name,
    dispose: () => {
      if (directory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The database a URL names, with the URL of its server's maintenance database `postgres`. */
function maintenanceUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'ibstack-backup' });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function databaseFacts(url: string): Promise<{ serverVersion: string; migrations: string[] }> {
  return withClient(url, async (client) => {
    const version = await client.query<{ server_version: string }>('show server_version');
    const table = await client.query<{ exists: boolean }>(
      "select to_regclass('public.kysely_migration') is not null as exists",
    );
    const migrations = table.rows[0]?.exists
      ? (await client.query<{ name: string }>('select name from kysely_migration order by name')).rows.map(
          (row) => row.name,
        )
      : [];
    return { serverVersion: version.rows[0]!.server_version, migrations };
  });
}

/** Whether the database exists, and how many tables it has outside the system schemas. */
export async function databaseState(url: string): Promise<{ exists: boolean; tables: number }> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  const exists = await withClient(maintenanceUrl(url), async (client) => {
    const result = await client.query('select 1 from pg_database where datname = $1', [name]);
    return result.rowCount === 1;
  });
  if (!exists) return { exists, tables: 0 };
  const tables = await withClient(url, async (client) => {
    const result = await client.query<{ count: string }>(
      "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
    );
    return Number(result.rows[0]!.count);
  });
  return { exists, tables };
}

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Drops the database (disconnecting whoever is still attached) and creates it empty. */
export async function recreateDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  await withClient(maintenanceUrl(url), async (client) => {
    await client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
    await client.query(`create database ${quoteIdentifier(name)}`);
  });
}

export async function createDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  await withClient(maintenanceUrl(url), async (client) => {
    await client.query(`create database ${quoteIdentifier(name)}`);
  });
}

/** Readiness: Postgres answers. */
export async function pingDatabase(url: string): Promise<boolean> {
  await withClient(url, (client) => client.query('select 1'));
  return true;
}
