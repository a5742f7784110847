import { connectDatabase, type DatabaseHandle, migrateToLatest } from '@ibstack/db';
import pg from 'pg';

import { testEnvironment, uniqueSuffix } from './environment';

export interface TestDatabase extends DatabaseHandle {
  readonly url: string;
  readonly name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A database of its own for one test file, migrated to the latest schema. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const base = new URL(testEnvironment().databaseUrl);
  const name = `ibstack_test_${uniqueSuffix()}`;
  base.pathname = `/${name}`;
  const url = base.toString();
  if (options.migrate ?? true) await migrateToLatest(url);
  else await createEmptyDatabase(url, name);
  const handle = await connectDatabase(url, { maxConnections: 5 });
  return {
    ...handle,
    url,
    name,
    drop: async () => {
      await handle.close();
      await dropDatabase(url, name);
    },
  };
}

async function maintenanceClient(url: string): Promise<pg.Client> {
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  return client;
}

async function createEmptyDatabase(url: string, name: string): Promise<void> {
  const client = await maintenanceClient(url);
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

/** Drops a test database, disconnecting anything still attached (a killed child process's pool). */
export async function dropDatabase(url: string, name: string): Promise<void> {
  const client = await maintenanceClient(url);
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
  } finally {
    await client.end();
  }
}
