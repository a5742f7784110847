import { type Kysely, sql } from 'kysely';

/**
 * Execution's additions: orders blocked before sending have no broker order id; positions keep their
 * cost basis (exact, unlike an average); order events and fills carry an outbox flag so a crash between
 * the database commit and the NATS publish is repaired on restart; commission reports that arrive
 * before their execution wait in their own table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('orders')
    .alterColumn('broker_order_id', (c) => c.dropNotNull())
    .execute();
  await db.schema
    .alterTable('positions')
    .addColumn('cost_basis', 'numeric', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('order_events')
    .addColumn('published', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .alterTable('executions')
    .addColumn('published', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await sql`create index order_events_unpublished on order_events (at) where not published`.execute(db);
  await sql`create index executions_unpublished on executions (received_at) where not published`.execute(db);
  await db.schema.createIndex('executions_executed_at').on('executions').column('executed_at').execute();
  await db.schema
    .createTable('commission_reports')
    .addColumn('exec_id', 'text', (c) => c.primaryKey())
    .addColumn('commission', 'numeric', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('realized_pnl', 'numeric')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
