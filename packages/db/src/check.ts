import pg from 'pg';

/**
 * Whether Postgres answers at the server of `url` (its `postgres` maintenance database, so a database
 * that `migrate` has yet to create does not count as missing). Returns the problem, or null.
 */
export async function checkPostgres(url: string, timeoutMs = 2_000): Promise<string | null> {
  let maintenance: URL;
  try {
    maintenance = new URL(url);
  } catch {
    return `DATABASE_URL is not a URL; set DATABASE_URL=postgres://user@host:5432/ibstack`;
  }
  maintenance.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: maintenance.toString(),
    connectionTimeoutMillis: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return (
      `Postgres is not reachable at ${maintenance.host} (${(error as Error).message}). ` +
      'Start it (docker compose up -d postgres, or apt install postgresql) or set DATABASE_URL.'
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
