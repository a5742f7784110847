/**
 * Turns one event into outbox rows for the chats that want it, at each chat's level: `off` gets nothing,
 * `silent` gets a message without a sound. A chat's own levels (/notify) override the configured defaults.
 */
import type { OutboxPayload, OutboxStore } from './adapters/outbox-store';
import type { ChatConfig } from './domain/chats';
import {
  isLevel,
  isNotificationName,
  type Level,
  type Levels,
  type NotificationName,
} from './domain/notifications';
import type { NotifierMetrics } from './metrics';

export class NotificationRouter {
  private readonly overrides = new Map<number, Partial<Record<NotificationName, Level>>>();

  constructor(
    private readonly deps: {
      chats: readonly ChatConfig[];
      defaults: Levels;
      store: OutboxStore;
      metrics: NotifierMetrics;
      /** Called after rows were added, so the sender looks at once. */
      queued: () => void;
    },
  ) {}

  /** Reads the levels chats chose before a restart. */
  async load(): Promise<void> {
    for (const row of await this.deps.store.chatLevels()) {
      if (!isNotificationName(row.notification) || !isLevel(row.level)) continue;
      this.overrides.set(row.chatId, { ...this.overrides.get(row.chatId), [row.notification]: row.level });
    }
  }

  levels(chatId: number): Levels {
    return { ...this.deps.defaults, ...this.overrides.get(chatId) };
  }

  async setLevel(chatId: number, notification: NotificationName, level: Level, by: string): Promise<void> {
    await this.deps.store.setLevel(chatId, notification, level, by);
    this.overrides.set(chatId, { ...this.overrides.get(chatId), [notification]: level });
  }

  /**
   * Queues `payload` for every chat whose level for `kind` is not off. `toldDirectly` already saw it (in
   * the answer to its own command): its row is recorded as sent, so neither now nor after a restart is it
   * told again. Idempotent per chat and `dedupeKey`; returns how many rows were new to send.
   */
  async notify(
    kind: NotificationName,
    dedupeKey: string,
    payload: OutboxPayload,
    options: { toldDirectly?: number } = {},
  ): Promise<number> {
    const rows = this.deps.chats
      .map((chat) => ({ chat, level: this.levels(chat.chatId)[kind] }))
      .filter(({ chat, level }) => level !== 'off' || chat.chatId === options.toldDirectly)
      .map(({ chat, level }) => ({
        chatId: chat.chatId,
        kind,
        dedupeKey: `${kind}:${dedupeKey}`,
        silent: level === 'silent',
        payload,
        toldDirectly: chat.chatId === options.toldDirectly,
      }));
    const queued = await this.deps.store.enqueue(rows);
    if (queued > 0) {
      this.deps.metrics.queued.inc({ kind }, queued);
      this.deps.queued();
    }
    return queued;
  }
}
