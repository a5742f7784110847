import { type Kysely, sql } from 'kysely';

/**
 * Reconciliation's additions (issue 12):
 * - `orders.duplicate_of`: a broker order that carries the intent id of another of our orders (a second
 *   client, a manual TWS order, a bug) is recorded as its own row pointing at the order it copies, so its
 *   fills never land on ours;
 * - `order_amendments`: every change of an order's terms, requested by an operator (before it is sent)
 *   or seen at the broker; a change nobody requested is reported by the next reconciliation, once
 *   (`flagged_at`);
 * - `executions.commission_published`: whether the published fill carried its commission, so one that
 *   arrives later is published as a correction; `executions.reconstructed_from`: a fill IB no longer
 *   lists (its execution window ends at midnight) rebuilt from a completed order, an order status or a
 *   position, for the operator to check;
 * - `reconciliation_runs.error`: a run that could not compare (a broker read timed out) is stored as not
 *   clean, with why; `reconciliation_runs.cash`: the broker's cash and our trade flows per account and
 *   currency at the compared point (the cash check's baseline is in `cash_baselines`, 0012).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('orders')
    .addColumn('duplicate_of', 'bigint', (c) => c.references('orders.id'))
    .execute();
  await db.schema
    .createTable('order_amendments')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id'))
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('limit_price', 'numeric')
    .addColumn('stop_price', 'numeric')
    .addColumn('previous_quantity', 'numeric', (c) => c.notNull())
    .addColumn('previous_limit_price', 'numeric')
    .addColumn('previous_stop_price', 'numeric')
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('flagged_at', 'timestamptz')
    .addCheckConstraint('order_amendments_origin', sql`origin in ('operator', 'broker')`)
    .execute();
  await db.schema.createIndex('order_amendments_order').on('order_amendments').column('order_id').execute();
  await db.schema
    .alterTable('executions')
    .addColumn('commission_published', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('reconstructed_from', 'text')
    .execute();
  // Fills published before this migration: those that carried a commission need no correction.
  await sql`update executions set commission_published = true where published and commission is not null`.execute(
    db,
  );
  await sql`create index executions_commission_unpublished on executions (exec_id)
    where published and not commission_published and commission is not null`.execute(db);
  await db.schema.createIndex('executions_order_row').on('executions').column('order_id').execute();
  await db.schema
    .alterTable('reconciliation_runs')
    .addColumn('error', 'text')
    .addColumn('cash', 'jsonb')
    .execute();
}
