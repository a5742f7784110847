import { type Kysely, sql } from 'kysely';

/**
 * The first schema. Money, prices and quantities are `numeric` (exact); every time is `timestamptz`.
 * Forward-only: a later change is a new migration file, never an edit of this one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('instruments')
    .addColumn('instrument', 'text', (c) => c.primaryKey())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('sec_type', 'text', (c) => c.notNull())
    .addColumn('exchange', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('local_symbol', 'text')
    .addColumn('con_id', 'bigint')
    .addColumn('min_tick', 'numeric')
    .addColumn('time_zone', 'text')
    .addColumn('trading_hours', 'text')
    .addColumn('liquid_hours', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('bars')
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('timeframe', 'text', (c) => c.notNull())
    .addColumn('ts', 'timestamptz', (c) => c.notNull())
    .addColumn('open', 'numeric', (c) => c.notNull())
    .addColumn('high', 'numeric', (c) => c.notNull())
    .addColumn('low', 'numeric', (c) => c.notNull())
    .addColumn('close', 'numeric', (c) => c.notNull())
    .addColumn('volume', 'numeric', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('bars_pkey', ['instrument', 'timeframe', 'ts'])
    .execute();

  // Ticks are stored only for instruments configured to keep them.
  await db.schema
    .createTable('ticks')
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('ts', 'timestamptz', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('bid', 'numeric')
    .addColumn('ask', 'numeric')
    .addColumn('last', 'numeric')
    .addColumn('bid_size', 'numeric')
    .addColumn('ask_size', 'numeric')
    .addColumn('last_size', 'numeric')
    .addPrimaryKeyConstraint('ticks_pkey', ['instrument', 'ts', 'seq'])
    .execute();

  await db.schema
    .createTable('order_intents')
    .addColumn('intent_id', 'text', (c) => c.primaryKey())
    .addColumn('sleeve', 'text', (c) => c.notNull())
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('order_type', 'text', (c) => c.notNull())
    .addColumn('limit_price', 'numeric')
    .addColumn('stop_price', 'numeric')
    .addColumn('time_in_force', 'text', (c) => c.notNull())
    .addColumn('bar_ts', 'timestamptz', (c) => c.notNull())
    .addColumn('timeframe', 'text', (c) => c.notNull())
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('reference_price', 'numeric', (c) => c.notNull())
    // accepted: published for execution; blocked: stopped by pre-trade risk (risk_reason says why).
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('risk_reason', 'text')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('order_intents_sleeve_created')
    .on('order_intents')
    .columns(['sleeve', 'created_at'])
    .execute();

  await db.schema
    .createTable('orders')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // Null only for an order adopted from the broker that no intent explains.
    .addColumn('intent_id', 'text', (c) => c.unique())
    .addColumn('broker_order_id', 'integer', (c) => c.notNull().unique())
    .addColumn('perm_id', 'bigint')
    .addColumn('client_id', 'integer', (c) => c.notNull())
    .addColumn('account', 'text')
    .addColumn('sleeve', 'text')
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('order_type', 'text', (c) => c.notNull())
    .addColumn('limit_price', 'numeric')
    .addColumn('stop_price', 'numeric')
    .addColumn('time_in_force', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('broker_status', 'text')
    .addColumn('filled_quantity', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('remaining_quantity', 'numeric', (c) => c.notNull())
    .addColumn('average_fill_price', 'numeric')
    .addColumn('error_code', 'integer')
    .addColumn('error_text', 'text')
    .addColumn('adopted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('leader_epoch', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('orders_status').on('orders').column('status').execute();

  await db.schema
    .createTable('order_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('broker_status', 'text')
    .addColumn('filled_quantity', 'numeric', (c) => c.notNull())
    .addColumn('remaining_quantity', 'numeric', (c) => c.notNull())
    .addColumn('average_fill_price', 'numeric')
    .addColumn('error_code', 'integer')
    .addColumn('reason', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('order_events_order').on('order_events').columns(['order_id', 'at']).execute();

  await db.schema
    .createTable('executions')
    .addColumn('exec_id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'bigint', (c) => c.references('orders.id'))
    .addColumn('broker_order_id', 'integer', (c) => c.notNull())
    .addColumn('perm_id', 'bigint', (c) => c.notNull())
    .addColumn('intent_id', 'text')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('price', 'numeric', (c) => c.notNull())
    .addColumn('cumulative_quantity', 'numeric')
    .addColumn('average_price', 'numeric')
    .addColumn('executed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('commission', 'numeric')
    .addColumn('commission_currency', 'text')
    .addColumn('realized_pnl', 'numeric')
    // IB corrects an execution by re-sending it under a new exec id with the same order-of-execution
    // prefix; the corrected row points to its replacement and no longer counts.
    .addColumn('superseded_by', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('executions_order').on('executions').column('broker_order_id').execute();

  await db.schema
    .createTable('positions')
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('instrument', 'text', (c) => c.notNull())
    .addColumn('quantity', 'numeric', (c) => c.notNull())
    .addColumn('average_cost', 'numeric', (c) => c.notNull())
    .addColumn('realized_pnl', 'numeric', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('positions_pkey', ['account', 'instrument'])
    .execute();

  await db.schema
    .createTable('account_snapshots')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('ts', 'timestamptz', (c) => c.notNull())
    .addColumn('net_liquidation', 'numeric', (c) => c.notNull())
    .addColumn('cash', 'numeric', (c) => c.notNull())
    .addColumn('realized_pnl', 'numeric', (c) => c.notNull())
    .addColumn('unrealized_pnl', 'numeric', (c) => c.notNull())
    .addColumn('daily_pnl', 'numeric', (c) => c.notNull())
    .addColumn('daily_return_pct', 'numeric', (c) => c.notNull())
    .addColumn('high_water_mark', 'numeric', (c) => c.notNull())
    .addColumn('drawdown_pct', 'numeric', (c) => c.notNull())
    .addColumn('raw', 'jsonb')
    .execute();
  await db.schema
    .createIndex('account_snapshots_account_ts')
    .on('account_snapshots')
    .columns(['account', 'ts'])
    .execute();

  await db.schema
    .createTable('reconciliation_runs')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('ok', 'boolean', (c) => c.notNull())
    .addColumn('mismatches', 'jsonb', (c) => c.notNull())
    .addColumn('positions_checked', 'integer', (c) => c.notNull())
    .addColumn('open_orders_checked', 'integer', (c) => c.notNull())
    .addColumn('executions_checked', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('reconciliation_runs_finished')
    .on('reconciliation_runs')
    .column('finished_at')
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('audit_id', 'text', (c) => c.notNull().unique())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('operator'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // The fencing epoch of the execution leader: an order insert that carries an older epoch than the
  // one stored here is refused, so a former leader that comes back cannot write an order.
  await db.schema
    .createTable('leader_fence')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
