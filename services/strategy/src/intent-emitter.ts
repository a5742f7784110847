import { type AccountSnapshot, type AuditEntry, MINUTE_MS } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { ProgressRow, StrategyEvents, StrategyStore } from './ports';
import { type Batch, buildIntents, type IntentRow, type Trigger } from './domain/intents';
import type { MarketPrices } from './domain/prices';
import type { SleeveBook } from './domain/sleeve-book';
import type { IntentPublisher } from './intent-publisher';
import type { StrategyMetrics } from './metrics';
import type { OrderTracker } from './order-tracker';
import { retryUntilStopped } from './retry';
import type { SleeveRunner } from './sleeve-runners';

/**
 * Takes one trigger's orders from risk to the bus: checks them against pre-trade risk, stores the intents
 * (accepted or blocked) with the trigger's progress in one transaction, then tracks the accepted ones as in
 * flight and publishes them, and audits the blocked ones. Store first, publish second.
 */
const NO_INTENTS: readonly IntentRow[] = Object.freeze([]);
const NO_AUDITS: readonly AuditEntry[] = Object.freeze([]);

export class IntentEmitter {
  /** The missing-snapshot warning comes with every order until execution records one; it is said once. */
  private snapshotMissingLogged = false;

  constructor(
    private readonly deps: {
      events: StrategyEvents;
      store: StrategyStore;
      book: SleeveBook;
      prices: MarketPrices;
      tracker: OrderTracker;
      publisher: IntentPublisher;
      /** The latest account snapshot, for the loss rules. */
      latestAccount: () => AccountSnapshot | null;
      /** Run before orders are checked against `latestAccount` (see `StrategyCoreDeps.accountSnapshotDue`). */
      accountSnapshotDue?: (() => Promise<void>) | undefined;
      runners: readonly SleeveRunner[];
      metrics: StrategyMetrics;
      log: Logger;
      clock: () => number;
      isStopping: () => boolean;
    },
  ) {}

  /**
   * The store step is retried until it succeeds (or the service stops): the strategies have already seen
   * the trigger, so giving up here would lose it.
   */
  async emit(
    trigger: Trigger,
    batches: ReadonlyArray<Batch<SleeveRunner>>,
    progress: readonly ProgressRow[],
  ): Promise<void> {
    const { events, store, book, prices, tracker, publisher, metrics, log, clock } = this.deps;
    // Most triggers bring no orders: what the full path below does for them, without building anything.
    if (batches.length === 0) {
      await retryUntilStopped(
        'storing intents and progress',
        () => store.commitBar({ intents: NO_INTENTS, progress, audits: NO_AUDITS }),
        { log, isStopping: this.deps.isStopping },
      );
      await publisher.marked();
      this.afterTrigger(clock());
      return;
    }
    const built = await retryUntilStopped(
      'storing intents and progress',
      async () => {
        if (batches.length > 0) await this.deps.accountSnapshotDue?.();
        const state = batches.length > 0 ? await events.tradingStateInForce() : null;
        const result = buildIntents(trigger, batches, {
          book,
          tradingState: state,
          account: this.deps.latestAccount(),
          rates: prices.ratesToUsd(),
          now: clock(),
        });
        this.logWarnings(result.warnings);
        await store.commitBar({ intents: result.rows, progress, audits: result.audits });
        return result;
      },
      { log, isStopping: this.deps.isStopping },
    );
    const now = clock();
    for (const { runner, intent } of built.accepted) {
      tracker.trackAccepted(intent, now);
      runner.recentOrderTimes.push(now);
      metrics.intents.inc({ sleeve: runner.config.name, status: 'accepted' });
    }
    for (const { runner, intent, reason } of built.blocked) {
      metrics.intents.inc({ sleeve: runner.config.name, status: 'blocked' });
      metrics.riskBlocked.inc({ sleeve: runner.config.name, reason });
      log.warn(
        { sleeve: intent.sleeve, intentId: intent.intentId, reason },
        'intent blocked by pre-trade risk',
      );
    }
    // Side by side: the intents, and the audit entries of the blocked ones (each stored already).
    if (built.audits.length === 0) await publisher.publish(built.accepted.map((a) => a.intent));
    else
      await Promise.all([
        publisher.publish(built.accepted.map((a) => a.intent)),
        ...built.audits.map((audit) =>
          events
            .publishAudit(audit)
            .catch((error: unknown) => log.error({ err: error }, 'audit publish failed')),
        ),
      ]);
    this.afterTrigger(now);
  }

  /** Forgets order times older than a minute, and reports each sleeve's orders in flight. */
  private afterTrigger(now: number): void {
    const { runners, tracker } = this.deps;
    const cutoff = now - MINUTE_MS;
    for (const runner of runners) {
      // Filtered only when something is to go: the same list, without a new array per trigger.
      const times = runner.recentOrderTimes;
      for (let index = 0; index < times.length; index++) {
        if (times[index]! > cutoff) continue;
        runner.recentOrderTimes = times.filter((time) => time > cutoff);
        break;
      }
      tracker.reportPending(runner);
    }
  }

  private logWarnings(warnings: ReadonlyArray<{ sleeve: string; warning: string }>): void {
    for (const { sleeve, warning } of warnings) {
      if (warning.startsWith('no account snapshot')) {
        if (this.snapshotMissingLogged) continue;
        this.snapshotMissingLogged = true;
      }
      this.deps.log.warn({ sleeve }, warning);
    }
  }
}
