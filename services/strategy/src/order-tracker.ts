import { type Fill, MINUTE_MS, type OrderEvent, type OrderIntent } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { StrategyStore } from './ports';
import type { MarketPrices } from './domain/prices';
import type { SleeveBook } from './domain/sleeve-book';
import type { StrategyMetrics } from './metrics';
import type { SleeveMetrics } from './sleeve-metrics';
import type { SleevePauser } from './sleeve-pauser';
import { type SleeveRunner, type SleeveRunners, strategyContext } from './sleeve-runners';

const PENDING_LOOKBACK_MS = 24 * 3_600_000;
const LIVE_ORDER_STATUSES = new Set(['pending', 'submitted', 'partially_filled']);

/**
 * Follows the sleeves' orders into the book: accepted intents count as in flight until execution's order
 * events and fills settle them, and fills become the sleeves' positions (and reach their strategies).
 * Rebuilt from Postgres at start.
 */
export class OrderTracker {
  /** The sleeve of each intent accepted in the day before start and since, for fills that do not name it. */
  private readonly intentSleeves = new Map<string, string>();

  constructor(
    private readonly deps: {
      store: StrategyStore;
      book: SleeveBook;
      runners: SleeveRunners;
      prices: MarketPrices;
      pauser: SleevePauser;
      sleeveMetrics: SleeveMetrics;
      metrics: StrategyMetrics;
      log: Logger;
      clock: () => number;
      /** How long an intent execution has not acknowledged counts as in flight. */
      pendingTtlMs: number;
    },
  ) {}

  /** Positions from stored executions, orders still in flight, and the last minute's order times. */
  async restore(now: number): Promise<void> {
    const { store, book, runners, pendingTtlMs } = this.deps;
    const names = runners.names;
    for (const fill of await store.loadSleeveFills(names)) {
      book.applyFill({
        ...fill,
        commission: fill.commission ?? undefined,
        commissionCurrency: fill.commissionCurrency ?? undefined,
      });
    }
    for (const row of await store.loadRecentAcceptedIntents(names, now - PENDING_LOOKBACK_MS)) {
      this.intentSleeves.set(row.intentId, row.sleeve);
      const runner = runners.named(row.sleeve);
      if (runner && row.createdAtMs > now - MINUTE_MS) runner.recentOrderTimes.push(row.createdAtMs);
      const intent = {
        sleeve: row.sleeve,
        instrument: row.instrument,
        side: row.side,
        quantity: row.quantity,
      };
      if (row.orderStatus === null) {
        // Execution has not picked it up (yet): in flight for as long as an unacknowledged intent may be.
        if (row.createdAtMs > now - pendingTtlMs)
          book.addPending(row.intentId, intent, row.createdAtMs, { filled: row.executed });
      } else {
        book.addPending(row.intentId, intent, row.createdAtMs, {
          filled: row.executed,
          terminalFilled: LIVE_ORDER_STATUSES.has(row.orderStatus)
            ? undefined
            : (row.orderFilled ?? row.executed),
          acknowledged: true,
        });
      }
    }
  }

  /** An intent just accepted: in flight from now on, before it is published, so no fill finds it unknown. */
  trackAccepted(intent: OrderIntent, now: number): void {
    this.deps.book.addPending(intent.intentId, intent, now);
    this.intentSleeves.set(intent.intentId, intent.sleeve);
  }

  async onFill(fill: Fill): Promise<void> {
    const { store, book, runners, prices, pauser, sleeveMetrics, clock } = this.deps;
    let sleeve = fill.sleeve;
    if (!sleeve && fill.intentId) {
      sleeve =
        this.intentSleeves.get(fill.intentId) ?? (await store.intentSleeve(fill.intentId)) ?? undefined;
    }
    const runner = sleeve ? runners.named(sleeve) : undefined;
    if (!runner) return;
    const counted = book.applyFill({
      execId: fill.execId,
      sleeve: runner.config.name,
      instrument: fill.instrument,
      side: fill.side,
      quantity: fill.quantity,
      price: fill.price,
      commission: fill.commission,
      commissionCurrency: fill.commissionCurrency,
      intentId: fill.intentId,
    });
    if (!counted) return;
    if (!prices.has(fill.instrument)) prices.set(fill.instrument, fill.price);
    if (runner.strategy?.onFill && runner.paused === null) {
      try {
        runner.strategy.onFill(
          {
            instrument: fill.instrument,
            side: fill.side,
            quantity: fill.quantity,
            price: fill.price,
            ts: fill.ts,
            ...(fill.intentId ? { intentId: fill.intentId } : {}),
          },
          strategyContext(book, runner, clock(), false),
        );
      } catch (error) {
        await pauser.pause(runner, 'fill', error, fill.ts);
      }
    }
    this.reportPending(runner);
    sleeveMetrics.update();
  }

  onOrderEvent(event: OrderEvent): Promise<void> {
    if (
      event.intentId &&
      this.deps.book.applyOrderEvent(event.intentId, event.status, event.filledQuantity)
    ) {
      const sleeve = this.intentSleeves.get(event.intentId);
      if (sleeve) this.deps.metrics.pendingIntents.set({ sleeve }, this.deps.book.pendingCount(sleeve));
    }
    return Promise.resolve();
  }

  /** Stops counting intents execution never acknowledged within the TTL (it refused or lost them). */
  expireUnacknowledged(): void {
    const expired = this.deps.book.expireUnacknowledged(this.deps.clock(), this.deps.pendingTtlMs);
    if (expired.length === 0) return;
    this.deps.log.warn(
      { intents: expired },
      'execution never acknowledged these intents; no longer counted as in flight',
    );
    for (const runner of this.deps.runners.all) this.reportPending(runner);
  }

  /** Sets `strategy_pending_intents` for a sleeve. */
  reportPending(runner: SleeveRunner): void {
    this.deps.metrics.pendingIntents.set(
      { sleeve: runner.config.name },
      this.deps.book.pendingCount(runner.config.name),
    );
  }
}
