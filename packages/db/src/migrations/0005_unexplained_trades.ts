import type { Kysely } from 'kysely';

/**
 * Orders and executions that no intent explains (a manual trade in TWS, an IB liquidation) are stored so
 * the books keep matching the broker, and reported by the next reconciliation, once: `flagged_at` says
 * when. Reporting halts trading until an operator has looked.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('orders').addColumn('flagged_at', 'timestamptz').execute();
  await db.schema.alterTable('executions').addColumn('flagged_at', 'timestamptz').execute();
}
