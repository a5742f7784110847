/**
 * Drains the outbox to Telegram, one worker per chat so a slow or limited chat holds up no other.
 *
 * A worker waits until its chat may receive a message, then takes everything due for it: fills waiting
 * together become one message (a burst of fills is one notification, not thirty), anything else goes
 * one message each, oldest first. What Telegram refuses for good (403: the bot was blocked or removed;
 * 400: a message it will never accept) is marked failed at once; anything else (network, 5xx, a 429
 * beyond what the retry plugin waits out) is tried again with doubling delays until the notification
 * is older than the give-up age. Either way a notification that is not delivered is counted in
 * `notifier_notifications_failed_total` and logged: none disappears silently.
 */
import { backoffDelayMs, type Fill } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { OutboxStore, PendingNotification } from './adapters/outbox-store';
import { type TelegramFailure, classifyTelegramError } from './adapters/telegram-errors';
import { fillsNotice } from './domain/notices';
import type { Clock } from './domain/text';
import type { NotifierMetrics } from './metrics';
import type { ChatPacer } from './pacer';

/** Sends one message; resolves with Telegram's message id. */
export type SendMessage = (chatId: number, html: string, options: { silent: boolean }) => Promise<number>;

export interface OutboxSenderOptions {
  store: OutboxStore;
  send: SendMessage;
  pacer: ChatPacer;
  metrics: NotifierMetrics;
  log: Logger;
  clock: () => Clock;
  retryBaseMs: number;
  giveUpAfterMs: number;
}

/** Fills of one chat merged into one message at most. */
const MAX_BATCH = 500;
const MAX_RETRY_DELAY_MS = 300_000;
/** Without a kick, the outbox is looked at this often (retries coming due, rows left by a crash). */
const SWEEP_MS = 5_000;

export class OutboxSender {
  private readonly workers = new Map<number, Promise<void>>();
  private readonly rerun = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private sweeping: Promise<void> | null = null;
  private sweepAgain = false;
  private readonly stopping = new AbortController();

  constructor(private readonly options: OutboxSenderOptions) {}

  start(): void {
    this.running = true;
    this.kick();
  }

  /** Stops taking new work and waits for the sends in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.sweeping;
    await Promise.all(this.workers.values());
  }

  /** Something was queued: look now rather than at the next sweep. */
  kick(): void {
    if (!this.running) return;
    if (this.sweeping) {
      this.sweepAgain = true;
      return;
    }
    this.sweeping = this.sweep().finally(() => {
      this.sweeping = null;
      if (this.sweepAgain) {
        this.sweepAgain = false;
        this.kick();
      }
    });
  }

  private async sweep(): Promise<void> {
    const { store, log, metrics } = this.options;
    if (this.timer) clearTimeout(this.timer);
    let nextSweepMs = SWEEP_MS;
    try {
      const now = new Date();
      for (const chatId of await store.chatsWithDue(now)) this.runWorker(chatId);
      const next = await store.nextDueAt();
      if (next) nextSweepMs = Math.min(SWEEP_MS, Math.max(50, next.getTime() - Date.now()));
      const pending = await store.pendingSummary(now);
      metrics.pending.set(pending.count);
      metrics.oldestPending.set(pending.oldestSeconds);
    } catch (error) {
      log.warn({ err: error }, 'could not read the notification outbox; trying again shortly');
    }
    if (this.running) this.timer = setTimeout(() => this.kick(), nextSweepMs);
  }

  private runWorker(chatId: number): void {
    if (this.workers.has(chatId)) {
      this.rerun.add(chatId);
      return;
    }
    const worker = this.drainChat(chatId)
      .catch((error: unknown) =>
        this.options.log.warn({ err: error, chatId }, 'notification worker failed; the outbox sweep retries'),
      )
      .finally(() => {
        this.workers.delete(chatId);
        if (this.rerun.delete(chatId) && this.running) this.runWorker(chatId);
      });
    this.workers.set(chatId, worker);
  }

  private async drainChat(chatId: number): Promise<void> {
    const { store, pacer } = this.options;
    while (this.running) {
      // Compose at the moment the chat may receive: whatever arrived while waiting joins this message.
      await pacer.waitUntilFree(chatId, this.stopping.signal);
      if (!this.running) return;
      const due = await store.dueFor(chatId, new Date(), MAX_BATCH);
      if (due.length === 0) return;
      const first = due[0]!;
      const batch =
        first.payload.type === 'fill'
          ? due.filter((row) => row.payload.type === 'fill' && row.silent === first.silent)
          : [first];
      // A transient failure holds the chat off; its later notifications wait, so the chat sees them in order.
      if (!(await this.deliver(chatId, batch))) return;
    }
  }

  /** Returns false when the chat should wait (a send failed and will be tried again). */
  private async deliver(chatId: number, batch: readonly PendingNotification[]): Promise<boolean> {
    const { store, send, metrics, log, clock, pacer } = this.options;
    const first = batch[0]!;
    const text =
      first.payload.type === 'fill'
        ? fillsNotice(
            batch.map((row) => (row.payload as { fill: Fill }).fill),
            clock(),
          )
        : first.payload.text;
    const ids = batch.map((row) => row.id);
    try {
      const messageId = await send(chatId, text, { silent: first.silent });
      await store.markSent(ids, messageId);
      metrics.messages.inc({ kind: first.kind });
      metrics.sent.inc({ kind: first.kind }, batch.length);
      return true;
    } catch (error) {
      const failure = classifyTelegramError(error);
      const oldest = Math.min(...batch.map((row) => row.createdAt.getTime()));
      const attempts = Math.max(...batch.map((row) => row.attempts)) + 1;
      const expired = Date.now() - oldest >= this.options.giveUpAfterMs;
      if (failure.permanent || expired) {
        await store.markFailed(ids, failure.description);
        metrics.failed.inc(
          { kind: first.kind, reason: failure.permanent ? failure.reason : 'gave_up' },
          batch.length,
        );
        log.error(
          { chatId, kind: first.kind, notifications: ids.length, attempts, reason: failure.reason },
          `notification not delivered and given up: ${failure.description}`,
        );
        return true;
      }
      const delay = this.retryDelay(attempts, failure);
      await store.markRetry(ids, new Date(Date.now() + delay), failure.description);
      pacer.holdOff(chatId, delay);
      metrics.retries.inc({ reason: failure.reason });
      log.warn(
        { chatId, kind: first.kind, notifications: ids.length, attempts, retryInMs: delay },
        `notification not delivered; trying again: ${failure.description}`,
      );
      return false;
    }
  }

  private retryDelay(attempts: number, failure: TelegramFailure): number {
    const backoff = backoffDelayMs(attempts, {
      firstMs: this.options.retryBaseMs,
      maxMs: MAX_RETRY_DELAY_MS,
    });
    return Math.max(backoff, (failure.retryAfterSeconds ?? 0) * 1000);
  }
}
