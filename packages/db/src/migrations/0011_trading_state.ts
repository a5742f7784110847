import { type Kysely, sql } from 'kysely';

/**
 * The trading state kept in Postgres as well as in KV `trading` (issue 12): readers take the stricter of
 * the two and read a missing copy as not RUNNING, so a lost key or a write that reached only one place
 * can never let trading go on after a halt. A new database starts RUNNING, as a new stack always has.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('trading_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('by', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('trading_state_state', sql`state in ('RUNNING', 'HALTED', 'REDUCING')`)
    .execute();
  await sql`insert into trading_state (name, state, reason, by, at)
    values ('trading', 'RUNNING', 'new database', 'migration', now())`.execute(db);
}
