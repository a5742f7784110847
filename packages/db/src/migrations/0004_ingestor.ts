import { type Kysely, sql } from 'kysely';

/**
 * Ingestor's addition: the windows for which historical data was fetched. A minute inside such a window
 * without a bar is known to have no data (a holiday, a minute without trades), so the gap repair does not
 * ask IB for it again and again. Written in the same transaction as the window's bars.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bar_coverage')
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('timeframe', 'text', (c) => c.notNull())
    .addColumn('start_ts', 'timestamptz', (c) => c.notNull())
    .addColumn('end_ts', 'timestamptz', (c) => c.notNull())
    .addColumn('fetched_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('bar_coverage_pkey', ['instrument', 'timeframe', 'start_ts', 'end_ts'])
    .addCheckConstraint('bar_coverage_window', sql`end_ts > start_ts`)
    .execute();
  await sql`create index bar_coverage_end on bar_coverage (instrument, timeframe, end_ts)`.execute(db);
}
