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
   * Queues `payload` for every chat whose level for `kind` is not off (but `exceptChat`, which was told
   * directly). Idempotent per chat and `dedupeKey`; returns how many rows were new.
   */
  async notify(
    kind: NotificationName,
    dedupeKey: string,
    payload: OutboxPayload,
    options: { exceptChat?: number } = {},
  ): Promise<number> {
    const rows = this.deps.chats
      .filter((chat) => chat.chatId !== options.exceptChat)
      .map((chat) => ({ chat, level: this.levels(chat.chatId)[kind] }))
      .filter(({ level }) => level !== 'off')
      .map(({ chat, level }) => ({
        chatId: chat.chatId,
        kind,
        dedupeKey: `${kind}:${dedupeKey}`,
        silent: level === 'silent',
        payload,
      }));
    const added = await this.deps.store.enqueue(rows);
    if (added > 0) {
      this.deps.metrics.queued.inc({ kind }, added);
      this.deps.queued();
    }
    return added;
  }
}
