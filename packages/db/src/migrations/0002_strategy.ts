import { type Kysely, sql } from 'kysely';

/**
 * The strategy engine's bookkeeping.
 * - `strategy_progress`: the last bar each sleeve processed per instrument and timeframe, written in the
 *   same transaction as the intents that bar produced, so a restart neither repeats nor skips a bar.
 * - `order_intents.published_at`: set once the intent is on JetStream. An accepted intent without it
 *   (a crash between commit and publish) is published by the strategy's outbox sweep on restart.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('strategy_progress')
    .addColumn('sleeve', 'text', (c) => c.notNull())
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('timeframe', 'text', (c) => c.notNull())
    .addColumn('last_bar_ts', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('strategy_progress_pkey', ['sleeve', 'instrument', 'timeframe'])
    .execute();

  await db.schema.alterTable('order_intents').addColumn('published_at', 'timestamptz').execute();
  await db.schema
    .createIndex('order_intents_unpublished')
    .on('order_intents')
    .column('created_at')
    .where(sql.ref('status'), '=', 'accepted')
    .where(sql.ref('published_at'), 'is', null)
    .execute();
}
