import type { Logger } from '@ibstack/observability';

import type { StrategyStore } from './ports';
import type { SleeveBook } from './domain/sleeve-book';
import type { IntentPublisher } from './intent-publisher';
import type { StrategyMetrics } from './metrics';

/**
 * Publishes accepted intents that were stored but never published (a publish failed, or the process died
 * between commit and publish). One that has grown older than `intentMaxAgeMs` is marked `expired` and
 * audited instead: a market order sent minutes late is a different decision.
 */
export class IntentOutbox {
  constructor(
    private readonly deps: {
      store: StrategyStore;
      book: SleeveBook;
      publisher: IntentPublisher;
      metrics: StrategyMetrics;
      log: Logger;
      clock: () => number;
      sleeves: readonly string[];
      intentMaxAgeMs: number;
    },
  ) {}

  /** One sweep. The caller keeps it from interleaving with a bar's store-and-publish. */
  async sweep(): Promise<{ published: number; expired: number }> {
    const { store, book, publisher, metrics, log, clock, sleeves, intentMaxAgeMs } = this.deps;
    // An intent whose mark is still being written is not one to publish again.
    await publisher.marked();
    const now = clock();
    const rows = await store.unpublishedIntents(sleeves);
    const fresh = rows.filter((row) => now - row.createdAtMs <= intentMaxAgeMs).map((row) => row.intent);
    const old = rows.filter((row) => now - row.createdAtMs > intentMaxAgeMs).map((row) => row.intent);
    if (old.length > 0) {
      const at = new Date(now).toISOString();
      await store.expireIntents(
        old.map((intent) => intent.intentId),
        old.map((intent) => ({
          v: 1,
          auditId: `intent_expired:${intent.intentId}`,
          actor: 'strategy:outbox',
          action: 'intent_expired',
          detail: { intentId: intent.intentId, sleeve: intent.sleeve, createdAt: intent.createdAt },
          at,
        })),
      );
      for (const intent of old) {
        book.removePending(intent.intentId);
        metrics.intents.inc({ sleeve: intent.sleeve, status: 'expired' });
      }
      log.warn(
        { intents: old.map((i) => i.intentId) },
        'accepted intents never published and now too old; expired',
      );
    }
    if (fresh.length > 0) {
      for (const intent of fresh) book.addPending(intent.intentId, intent, Date.parse(intent.createdAt));
      await publisher.publish(fresh);
      await publisher.marked();
      metrics.outboxPublished.inc(fresh.length);
      log.warn(
        { intents: fresh.map((i) => i.intentId) },
        'published accepted intents that had not been published',
      );
    }
    return { published: fresh.length, expired: old.length };
  }
}
