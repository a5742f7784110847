import type { OrderIntent } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { StrategyEvents, StrategyStore } from './ports';

/**
 * Publishes stored, accepted intents to `order.intent.<sleeve>` (the intent id is the `Nats-Msg-Id`, so a
 * repeat is dropped) and marks them `published_at`. What it could not publish stays unmarked for the
 * outbox sweep.
 *
 * The mark is written in the background: nothing waits on it but the outbox sweep (which would otherwise
 * publish those intents again), the next publish, and stop. A mark lost in a crash only means the outbox
 * publishes the intent again, and JetStream drops the repeat.
 */
export class IntentPublisher {
  /** The `published_at` write still under way, if any. */
  private marking: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { events: StrategyEvents; store: StrategyStore; log: Logger; clock: () => number },
  ) {}

  /** Publishes sleeves side by side; a sleeve's own intents go one after another, in sequence order. */
  async publish(intents: readonly OrderIntent[]): Promise<void> {
    const { store, log, clock } = this.deps;
    // One mark at a time: they cannot pile up behind a slow database.
    await this.marked();
    if (intents.length === 0) return;
    const published: string[] = [];
    // One sleeve's intents (nearly always the case) need no grouping.
    const sleeve = intents[0]!.sleeve;
    if (intents.every((intent) => intent.sleeve === sleeve)) await this.publishInOrder(intents, published);
    else {
      const bySleeve = new Map<string, OrderIntent[]>();
      for (const intent of intents) {
        let list = bySleeve.get(intent.sleeve);
        if (!list) bySleeve.set(intent.sleeve, (list = []));
        list.push(intent);
      }
      await Promise.all(
        [...bySleeve.values()].map((sleeveIntents) => this.publishInOrder(sleeveIntents, published)),
      );
    }
    if (published.length === 0) return;
    this.marking = store
      .markPublished(published, clock())
      .catch((error: unknown) =>
        log.error(
          { err: error },
          'could not mark intents published; the outbox will re-publish (de-duplicated)',
        ),
      );
  }

  /**
   * Publishes one sleeve's intents one after another, adding each published id to `published`. Stops at
   * the first that fails: stored as accepted and not marked, the outbox sweep publishes it, and the
   * sleeve's later intents wait for it, so none overtakes it.
   */
  private async publishInOrder(intents: readonly OrderIntent[], published: string[]): Promise<void> {
    const { events, log } = this.deps;
    for (const intent of intents) {
      try {
        await events.publishIntent(intent);
        published.push(intent.intentId);
      } catch (error) {
        log.error({ err: error, intentId: intent.intentId }, 'intent publish failed; the outbox will retry');
        return;
      }
    }
  }

  /** Resolves once the intents published so far are marked (or their mark has failed and been logged). */
  marked(): Promise<void> {
    return this.marking;
  }
}
