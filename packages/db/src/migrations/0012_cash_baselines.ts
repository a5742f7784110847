import { type Kysely, sql } from 'kysely';

/**
 * Cash reconciliation (issue 12): per account and currency, the broker's cash at a reconciliation and the
 * cash effect of every execution we had stored at that moment. A later run expects the broker's cash to be
 * the baseline plus the effect of the executions stored since (the difference of the two totals). Taken on
 * the first run that can compare, again after a cash mismatch has been reported (and trading halted), and
 * after a fill rebuilt from what IB still reports (approximate) — never at a clean run, so a slow leak below
 * the tolerance per run still adds up to a mismatch.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cash_baselines')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('broker_cash', 'numeric', (c) => c.notNull())
    .addColumn('executions_effect', 'numeric', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('cash_baselines_pkey', ['account', 'currency'])
    .execute();
}
