import { type Kysely, sql } from 'kysely';

/**
 * Ingestor's addition: the historical-data requests it sent lately, so a restarted ingestor's pacing
 * limiter starts from what IB has already counted (60 per 10 minutes, no identical request within 15 s,
 * a few per contract within 2 s) instead of from nothing. Rows older than the longest pacing window are
 * pruned by the ingestor. The key leads with `sent_at`, which is what loading and pruning scan by; it
 * also makes a batch written twice (a retried write whose commit was in fact done) one set of rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('history_requests')
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('contract_key', 'text', (c) => c.notNull())
    .addColumn('weight', 'smallint', (c) => c.notNull().defaultTo(1))
    .addPrimaryKeyConstraint('history_requests_pkey', ['sent_at', 'signature'])
    .addCheckConstraint('history_requests_weight', sql`weight > 0`)
    .execute();
}
