import { assertSchemaCurrent, migrateToLatest, migrationProvider, sql } from '@ibstack/db';
import { createTestDatabase, dropDatabase, testEnvironment, uniqueSuffix } from '@ibstack/test-kit';

describe('migrations', () => {
  const name = `ibstack_test_${uniqueSuffix()}`;
  const url = (() => {
    const base = new URL(testEnvironment().databaseUrl);
    base.pathname = `/${name}`;
    return base.toString();
  })();

  afterAll(() => dropDatabase(url, name));

  it('creates a missing database and applies every migration, then does nothing the second time', async () => {
    const first = await migrateToLatest(url);
    expect(first.databaseCreated).toBe(true);
    const all = Object.keys(await migrationProvider.getMigrations()).sort();
    expect(all[0]).toBe('0001_initial');
    expect(first.applied).toEqual(all);

    const second = await migrateToLatest(url);
    expect(second).toEqual({ databaseCreated: false, applied: [] });
  });

  it('runs safely when two processes migrate at once', async () => {
    const concurrentName = `ibstack_test_${uniqueSuffix()}`;
    const base = new URL(url);
    base.pathname = `/${concurrentName}`;
    try {
      const reports = await Promise.all([migrateToLatest(base.toString()), migrateToLatest(base.toString())]);
      const all = Object.keys(await migrationProvider.getMigrations()).sort();
      expect(reports.flatMap((report) => report.applied).sort()).toEqual(all);
    } finally {
      await dropDatabase(base.toString(), concurrentName);
    }
  });
});

describe('schema', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('has every table of the architecture', async () => {
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`.execute(
      database.db,
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(
      expect.arrayContaining([
        'instruments',
        'bars',
        'order_intents',
        'orders',
        'executions',
        'positions',
        'account_snapshots',
        'reconciliation_runs',
        'audit_log',
        'users',
      ]),
    );
  });

  it('stores money as numeric and time with a time zone, never floats', async () => {
    const columns = await sql<{ table_name: string; column_name: string; data_type: string }>`
      select table_name, column_name, data_type from information_schema.columns where table_schema = 'public'`.execute(
      database.db,
    );
    const types = new Set(columns.rows.map((row) => row.data_type));
    expect(types.has('double precision')).toBe(false);
    expect(types.has('real')).toBe(false);
    expect(types.has('timestamp without time zone')).toBe(false);
    const price = columns.rows.find((row) => row.table_name === 'executions' && row.column_name === 'price');
    expect(price?.data_type).toBe('numeric');
  });

  it('keeps decimals exact through a round trip', async () => {
    await database.db
      .insertInto('bars')
      .values({
        instrument: 'EURCAD',
        timeframe: '1m',
        ts: '2026-11-24T15:00:00Z',
        open: '1.48235',
        high: '1.48300',
        low: '1.48200',
        close: '0.1',
        volume: '0',
        source: 'live',
      })
      .execute();
    const row = await database.db.selectFrom('bars').selectAll().executeTakeFirstOrThrow();
    expect(row.open).toBe('1.48235');
    expect(row.close).toBe('0.1');
    expect(row.ts).toEqual(new Date('2026-11-24T15:00:00Z'));
  });

  it('keeps the ingestor’s history requests keyed by send time, so loading and pruning scan an index', async () => {
    const index = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes where tablename = 'history_requests'`.execute(database.db);
    expect(index.rows.map((row) => row.indexdef)).toEqual([
      expect.stringMatching(/UNIQUE INDEX history_requests_pkey .*\(sent_at, signature\)/),
    ]);
    const request = { sent_at: '2026-11-24T15:00:00.123Z', signature: 'a', contract_key: 'EURCAD' };
    await database.db.insertInto('history_requests').values(request).execute();
    await database.db
      .insertInto('history_requests')
      .values(request)
      .onConflict((oc) => oc.doNothing())
      .execute();
    const rows = await database.db.selectFrom('history_requests').selectAll().execute();
    expect(rows).toEqual([{ ...request, sent_at: new Date(request.sent_at), weight: 1 }]);
  });

  it('allows one order per intent id', async () => {
    const order = {
      intent_id: 'a'.repeat(32),
      broker_order_id: 1,
      client_id: 1,
      instrument: 'EURCAD',
      side: 'BUY' as const,
      quantity: '20000',
      order_type: 'MKT',
      time_in_force: 'DAY',
      status: 'pending' as const,
      remaining_quantity: '20000',
    };
    await database.db.insertInto('orders').values(order).execute();
    await expect(
      database.db
        .insertInto('orders')
        .values({ ...order, broker_order_id: 2 })
        .execute(),
    ).rejects.toThrow(/orders_intent_id_key/);
  });
});

describe('schema check', () => {
  it('tells a service to migrate when the schema is behind the code', async () => {
    const database = await createTestDatabase({ migrate: false });
    try {
      await expect(assertSchemaCurrent(database.db)).rejects.toThrow(
        /missing migration\(s\) 0001_initial.*npm run migrate/,
      );
      await migrateToLatest(database.url);
      await expect(assertSchemaCurrent(database.db)).resolves.toBeUndefined();
    } finally {
      await database.drop();
    }
  });
});
