import type { OrderIntent } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { StrategyBus } from './adapters/nats-bus';
import type { PgStrategyStore } from './adapters/pg-store';

/**
 * Publishes stored, accepted intents to `order.intent.<sleeve>` (the intent id is the `Nats-Msg-Id`, so a
 * repeat is dropped) and marks them `published_at`. What it could not publish stays unmarked for the
 * outbox sweep.
 */
export class IntentPublisher {
  constructor(
    private readonly deps: { bus: StrategyBus; store: PgStrategyStore; log: Logger; clock: () => number },
  ) {}

  /** Publishes sleeves side by side; a sleeve's own intents go one after another, in sequence order. */
  async publish(intents: readonly OrderIntent[]): Promise<void> {
    const { bus, store, log, clock } = this.deps;
    const published: string[] = [];
    const bySleeve = new Map<string, OrderIntent[]>();
    for (const intent of intents)
      bySleeve.set(intent.sleeve, [...(bySleeve.get(intent.sleeve) ?? []), intent]);
    await Promise.all(
      [...bySleeve.values()].map(async (sleeveIntents) => {
        for (const intent of sleeveIntents) {
          try {
            await bus.publishIntent(intent);
            published.push(intent.intentId);
          } catch (error) {
            // Stored as accepted and not marked: the outbox sweep publishes it. The sleeve's later intents
            // wait for it, so none overtakes it.
            log.error(
              { err: error, intentId: intent.intentId },
              'intent publish failed; the outbox will retry',
            );
            return;
          }
        }
      }),
    );
    if (published.length === 0) return;
    await store
      .markPublished(published, clock())
      .catch((error: unknown) =>
        log.error(
          { err: error },
          'could not mark intents published; the outbox will re-publish (de-duplicated)',
        ),
      );
  }
}
