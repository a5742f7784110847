import { createTestDatabase, type TestDatabase } from '@ibstack/test-kit';

import { type BarRow, type BarWriteMethod, PgBarStore } from '../../src/adapters/pg-bars';

const T0 = Date.parse('2026-11-24T15:00:00.000Z');
const MINUTE = 60_000;

function bar(index: number, overrides: Partial<BarRow> = {}): BarRow {
  return {
    instrument: 'EURCAD',
    timeframe: '1m',
    ts: T0 + index * MINUTE,
    open: '1.4823',
    high: '1.4825',
    low: '1.482',
    close: '1.4824',
    volume: '0',
    source: 'live',
    ...overrides,
  };
}

describe('Postgres bar store', () => {
  let db: TestDatabase;
  let store: PgBarStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PgBarStore(db, 'auto');
  });

  afterAll(async () => {
    await db.drop();
  });

  beforeEach(async () => {
    await db.db.deleteFrom('bars').execute();
    await db.db.deleteFrom('bar_coverage').execute();
  });

  async function rows() {
    return db.db.selectFrom('bars').select(['ts', 'close', 'source', 'updated_at']).orderBy('ts').execute();
  }

  it.each<BarWriteMethod>(['insert', 'copy'])(
    'keeps one untouched row for a bar written twice, and replaces a revised bar (%s)',
    async (method) => {
      expect(await store.writeBars([bar(0), bar(1)], [], method)).toBe(2);
      const before = await rows();
      expect(await store.writeBars([bar(0), bar(1)], [], method)).toBe(0);
      expect(await rows()).toEqual(before);
      expect(await store.writeBars([bar(1, { close: '1.4825', source: 'backfill' })], [], method)).toBe(1);
      const after = await rows();
      expect(after).toHaveLength(2);
      expect(after[1]).toMatchObject({ close: '1.4825', source: 'backfill' });
    },
  );

  it.each<BarWriteMethod>(['insert', 'copy'])(
    'takes the last of two versions of a bar in one batch (%s)',
    async (method) => {
      await store.writeBars([bar(0), bar(0, { close: '1.4821' })], [], method);
      expect((await rows()).map((row) => row.close)).toEqual(['1.4821']);
    },
  );

  it('writes a window’s coverage with its bars, and neither when the batch fails', async () => {
    await store.writeBars(
      [bar(0)],
      [{ instrument: 'EURCAD', timeframe: '1m', start: T0, end: T0 + 5 * MINUTE }],
    );
    expect(await store.coverage('EURCAD', '1m', T0, T0 + MINUTE)).toEqual([
      { start: T0, end: T0 + 5 * MINUTE },
    ]);
    await expect(
      store.writeBars(
        [bar(6, { high: 'not a number' })],
        [{ instrument: 'EURCAD', timeframe: '1m', start: T0 + 5 * MINUTE, end: T0 + 10 * MINUTE }],
      ),
    ).rejects.toThrow();
    expect(await store.coverage('EURCAD', '1m', T0, T0 + 20 * MINUTE)).toHaveLength(1);
    expect(await store.storedBarTimes('EURCAD', '1m', T0, T0 + 20 * MINUTE)).toEqual(new Set([T0]));
  });

  it('writes a large batch through COPY and reads it back exactly', async () => {
    const batch = Array.from({ length: 1_440 }, (_, i) => bar(i, { close: (1.48 + i / 100_000).toFixed(5) }));
    expect(await store.writeBars(batch)).toBe(1_440);
    const stored = await store.barsBetween('EURCAD', '1m', T0, T0 + 1_440 * MINUTE);
    expect(stored.map((row) => row.close)).toEqual(batch.map((row) => row.close));
  });

  it('keeps the historical requests sent lately, once each, and prunes the old ones as it writes', async () => {
    const record = (at: number, identity: string, weight = 1) => ({
      at,
      identity,
      contract: 'EURCAD',
      weight,
    });
    await store.writeHistoryRequests([record(T0, 'a'), record(T0 + 1_001, 'b', 2)], T0 - MINUTE);
    // A batch written again (a retried write whose commit had gone through) adds nothing.
    await store.writeHistoryRequests([record(T0 + 1_001, 'b', 2)], T0 - MINUTE);
    expect(await store.historyRequestsSince(T0)).toEqual([record(T0, 'a'), record(T0 + 1_001, 'b', 2)]);
    expect(await store.historyRequestsSince(T0 + 1)).toEqual([record(T0 + 1_001, 'b', 2)]);

    await store.writeHistoryRequests([record(T0 + 11 * MINUTE, 'c')], T0 + MINUTE);
    expect(await db.db.selectFrom('history_requests').select('signature').execute()).toEqual([
      { signature: 'c' },
    ]);
  });
});
