/**
 * The notifier's tables: the outbox of notifications and the chats' own notification levels. An event is
 * acknowledged on NATS once its rows are here, so what Telegram has not taken yet survives a restart.
 */
import type { Fill } from '@ibstack/contracts';
import { type Database, type Kysely, sql } from '@ibstack/db';

import type { Level, NotificationName } from '../domain/notifications';

/** What a notification carries: fills are kept whole so a burst can be told as one message. */
export type OutboxPayload =
  | { type: 'fill'; fill: Fill }
  /** `at`: the time of what it tells, where a restart needs it (trading states). */
  | { type: 'text'; text: string; at?: string };

export interface NewNotification {
  chatId: number;
  kind: NotificationName;
  dedupeKey: string;
  silent: boolean;
  payload: OutboxPayload;
  /** The chat already saw it another way (a command's answer): recorded as sent, so it is not told twice. */
  toldDirectly?: boolean;
}

export interface PendingNotification {
  id: number;
  chatId: number;
  kind: NotificationName;
  silent: boolean;
  payload: OutboxPayload;
  attempts: number;
  createdAt: Date;
}

export class OutboxStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts the notifications not yet known (by chat and dedupe key); returns how many new ones wait to
   * be sent (those told directly are not counted).
   */
  async enqueue(notifications: readonly NewNotification[]): Promise<number> {
    if (notifications.length === 0) return 0;
    const inserted = await this.db
      .insertInto('notifier_outbox')
      .values(
        notifications.map((n) => ({
          chat_id: n.chatId,
          kind: n.kind,
          dedupe_key: n.dedupeKey,
          silent: n.silent,
          payload: JSON.stringify(n.payload),
          ...(n.toldDirectly ? { sent_at: new Date() } : {}),
        })),
      )
      .onConflict((conflict) => conflict.columns(['chat_id', 'dedupe_key']).doNothing())
      .returning('sent_at')
      .execute();
    return inserted.filter((row) => row.sent_at === null).length;
  }

  /** Chats with a notification due now. */
  async chatsWithDue(now: Date): Promise<number[]> {
    const rows = await this.db
      .selectFrom('notifier_outbox')
      .select('chat_id')
      .distinct()
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .execute();
    return rows.map((row) => Number(row.chat_id));
  }

  /** The chat's due notifications, oldest first. */
  async dueFor(chatId: number, now: Date, limit: number): Promise<PendingNotification[]> {
    const rows = await this.db
      .selectFrom('notifier_outbox')
      .select(['id', 'chat_id', 'kind', 'silent', 'payload', 'attempts', 'created_at'])
      .where('chat_id', '=', chatId)
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: Number(row.id),
      chatId: Number(row.chat_id),
      kind: row.kind as NotificationName,
      silent: row.silent,
      payload: row.payload as OutboxPayload,
      attempts: row.attempts,
      createdAt: row.created_at,
    }));
  }

  /** The earliest time a waiting notification becomes due, or null when nothing waits. */
  async nextDueAt(): Promise<Date | null> {
    const row = await this.db
      .selectFrom('notifier_outbox')
      .select((eb) => eb.fn.min('next_attempt_at').as('next'))
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirst();
    return row?.next ? new Date(row.next) : null;
  }

  async markSent(ids: readonly number[], messageId: number): Promise<void> {
    await this.db
      .updateTable('notifier_outbox')
      .set({ sent_at: new Date(), telegram_message_id: messageId, attempts: sql`attempts + 1` })
      .where('id', 'in', ids)
      .execute();
  }

  async markRetry(ids: readonly number[], nextAttemptAt: Date, error: string): Promise<void> {
    await this.db
      .updateTable('notifier_outbox')
      .set({ next_attempt_at: nextAttemptAt, last_error: error.slice(0, 500), attempts: sql`attempts + 1` })
      .where('id', 'in', ids)
      .execute();
  }

  async markFailed(ids: readonly number[], error: string): Promise<void> {
    await this.db
      .updateTable('notifier_outbox')
      .set({ failed_at: new Date(), last_error: error.slice(0, 500), attempts: sql`attempts + 1` })
      .where('id', 'in', ids)
      .execute();
  }

  async pendingSummary(now: Date): Promise<{ count: number; oldestSeconds: number }> {
    const row = await this.db
      .selectFrom('notifier_outbox')
      .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.min('created_at').as('oldest')])
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirst();
    const oldest = row?.oldest ? new Date(row.oldest).getTime() : null;
    return {
      count: Number(row?.count ?? 0),
      oldestSeconds: oldest === null ? 0 : Math.max(0, (now.getTime() - oldest) / 1000),
    };
  }

  /** Notifications given up since `since` (for the daily summary). */
  async failedSince(since: Date): Promise<number> {
    const row = await this.db
      .selectFrom('notifier_outbox')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('failed_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  /**
   * Delivered or given-up rows older than `before` go; waiting ones stay whatever their age, and so does
   * the newest trading state told, which `lastToldTradingStateAt` reads after a calm month too.
   */
  async prune(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('notifier_outbox')
      .where('created_at', '<', before)
      .where((eb) => eb.or([eb('sent_at', 'is not', null), eb('failed_at', 'is not', null)]))
      .where(
        'id',
        'not in',
        this.db
          .selectFrom('notifier_outbox')
          .select('id')
          .where('kind', '=', 'trading_state')
          .orderBy(sql`payload->>'at'`, 'desc')
          .limit(1),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The `at` of the newest trading state told to any chat, so a restart tells only what is newer. */
  async lastToldTradingStateAt(): Promise<string | null> {
    const row = await this.db
      .selectFrom('notifier_outbox')
      .select(sql<string>`max(payload->>'at')`.as('at'))
      .where('kind', '=', 'trading_state')
      .executeTakeFirst();
    return row?.at ?? null;
  }

  async chatLevels(): Promise<Array<{ chatId: number; notification: string; level: string }>> {
    const rows = await this.db
      .selectFrom('notifier_chat_settings')
      .select(['chat_id', 'notification', 'level'])
      .execute();
    return rows.map((row) => ({
      chatId: Number(row.chat_id),
      notification: row.notification,
      level: row.level,
    }));
  }

  async setLevel(chatId: number, notification: NotificationName, level: Level, by: string): Promise<void> {
    await this.db
      .insertInto('notifier_chat_settings')
      .values({ chat_id: chatId, notification, level, updated_by: by })
      .onConflict((conflict) =>
        conflict
          .columns(['chat_id', 'notification'])
          .doUpdateSet({ level, updated_by: by, updated_at: new Date() }),
      )
      .execute();
  }
}
