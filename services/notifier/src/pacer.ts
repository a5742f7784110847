/**
 * Telegram's sending limits as reservations: about one message a second per chat, twenty a minute per
 * group, thirty a second overall. A caller reserves the next free slot and waits for it, so concurrent
 * senders (notifications and command replies) queue fairly without sending in bursts. A 429's
 * `retry_after` pushes the chat's next slot back.
 */
import { isGroupChat } from './domain/chats';

export interface PacerOptions {
  chatIntervalMs: number;
  groupIntervalMs: number;
  globalIntervalMs: number;
  now?: () => number;
}

export class ChatPacer {
  private readonly nextByChat = new Map<number, number>();
  private nextGlobal = 0;
  private readonly now: () => number;

  constructor(private readonly options: PacerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** When `chatId` may next receive a message (epoch ms), without reserving it. */
  nextFree(chatId: number): number {
    return Math.max(this.now(), this.nextByChat.get(chatId) ?? 0, this.nextGlobal);
  }

  /** Reserves the chat's next slot and resolves when it has come. */
  async acquire(chatId: number): Promise<void> {
    const slot = this.nextFree(chatId);
    const interval = isGroupChat(chatId) ? this.options.groupIntervalMs : this.options.chatIntervalMs;
    this.nextByChat.set(chatId, slot + interval);
    this.nextGlobal = slot + this.options.globalIntervalMs;
    const wait = slot - this.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /**
   * Resolves when the chat's next slot is free (a sender composes its message then, to batch more), or
   * at once when `signal` aborts (a stopping sender must not sit out a long hold-off).
   */
  async waitUntilFree(chatId: number, signal?: AbortSignal): Promise<void> {
    const wait = this.nextFree(chatId) - this.now();
    if (wait <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Telegram asked to wait: nothing more to this chat for `ms`. */
  holdOff(chatId: number, ms: number): void {
    this.nextByChat.set(chatId, Math.max(this.nextByChat.get(chatId) ?? 0, this.now() + ms));
  }
}
