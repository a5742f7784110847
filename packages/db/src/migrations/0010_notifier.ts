import { type Kysely, sql } from 'kysely';

/**
 * The notifier's additions. `notifier_outbox` holds every Telegram notification from the moment its
 * event is handled until Telegram took it (or it was given up, loudly): a restart sends what was still
 * waiting, and `(chat_id, dedupe_key)` makes a redelivered event one message. `notifier_chat_settings`
 * keeps the notification levels a chat chose with /notify over the configured defaults.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notifier_outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('chat_id', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('silent', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('failed_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('telegram_message_id', 'bigint')
    .addUniqueConstraint('notifier_outbox_dedupe', ['chat_id', 'dedupe_key'])
    .execute();
  await sql`create index notifier_outbox_pending on notifier_outbox (chat_id, id) where sent_at is null and failed_at is null`.execute(
    db,
  );
  await db.schema
    .createIndex('notifier_outbox_created_at')
    .on('notifier_outbox')
    .column('created_at')
    .execute();
  await db.schema
    .createTable('notifier_chat_settings')
    .addColumn('chat_id', 'bigint', (c) => c.notNull())
    .addColumn('notification', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('notifier_chat_settings_pkey', ['chat_id', 'notification'])
    .addCheckConstraint('notifier_chat_settings_level', sql`level in ('on', 'silent', 'off')`)
    .execute();
}
