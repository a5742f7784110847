import { type Kysely, sql } from 'kysely';

/**
 * Dashboard-api's users: the table from 0001 gets the two roles as a constraint (`viewer` reads,
 * `operator` also trades, halts and resumes), `viewer` as the default so a user is never given more
 * than was asked for, and the facts the login path keeps: failed attempts in a row, the last login, and
 * when the row changed (a password change invalidates the tokens issued before it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .alterColumn('role', (c) => c.setDefault('viewer'))
    .execute();
  await db.schema
    .alterTable('users')
    .addCheckConstraint('users_role', sql`role in ('viewer', 'operator')`)
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_login_at', 'timestamptz')
    .addColumn('password_changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The dashboard's audit page lists the newest entries first.
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
}
