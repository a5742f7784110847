import {
  type Bar,
  type InstrumentKey,
  parseIsoMs,
  type Tick,
  TIMEFRAME_SECONDS,
  type Timeframe,
} from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';
import Decimal from 'decimal.js';

import type { ProgressRow } from './ports';
import { parseDecisions } from './domain/decisions';
import type { Batch } from './domain/intents';
import { type CandidateOrder, ordersFromDecisions, type SleeveView } from './domain/orders';
import type { MarketPrices } from './domain/prices';
import type { BarProgress } from './domain/progress';
import type { SleeveBook } from './domain/sleeve-book';
import type { SizingRules } from './domain/sizing';
import type { IntentEmitter } from './intent-emitter';
import type { StrategyMetrics } from './metrics';
import type { ParsedDecision } from './sdk';
import type { SleeveMetrics } from './sleeve-metrics';
import type { SleevePauser } from './sleeve-pauser';
import { type SleeveRunner, type SleeveRunners, strategyContext } from './sleeve-runners';

const TICK_SEQUENCE_BASE = 1_000_000;

/**
 * Runs market data through the sleeves: each sleeve on a bar's stream (or, for strategies that trade on
 * ticks, on a tick's instrument) decides, and its decisions are sized into orders for the intent emitter.
 * A bar also moves each sleeve's progress, committed with the bar's intents. The caller runs one bar or tick
 * at a time.
 */
export class BarPipeline {
  /** Per sleeve, how many late bars in a row had decisions dropped: a replay says so once, not per bar. */
  private readonly lateStreaks = new Map<string, number>();
  /** Each sleeve's view for sizing, built on its first orders. */
  private readonly views = new Map<SleeveRunner, SizingView>();

  constructor(
    private readonly deps: {
      runners: SleeveRunners;
      book: SleeveBook;
      prices: MarketPrices;
      progress: BarProgress;
      emitter: IntentEmitter;
      pauser: SleevePauser;
      sleeveMetrics: SleeveMetrics;
      metrics: StrategyMetrics;
      log: Logger;
      clock: () => number;
      /**
       * A bar processed later than this after its close updates the strategy but sends no order; a tick
       * older than this only updates the last price.
       */
      maxBarDelayMs: number;
    },
  ) {}

  /** @param barMs the bar's open time (epoch ms), when the caller has parsed `bar.ts` already */
  async processBar(bar: Bar, barMs: number = parseIsoMs(bar.ts)): Promise<void> {
    const { runners, book, prices, progress, emitter, pauser, sleeveMetrics, metrics, log, clock } =
      this.deps;
    const startedAt = performance.now();
    const sleeves = runners.forBar(bar.instrument, bar.timeframe);
    const barEndMs = barMs + TIMEFRAME_SECONDS[bar.timeframe] * 1000;
    prices.set(bar.instrument, bar.close, barEndMs);
    const closedAgoMs = clock() - barEndMs;
    const stale = closedAgoMs > this.deps.maxBarDelayMs;
    const advanced: ProgressRow[] = [];
    const batches: Array<Batch<SleeveRunner>> = [];
    for (const runner of sleeves) {
      const name = runner.config.name;
      const done = progress.lastBar(name, bar.instrument, bar.timeframe);
      if (done !== undefined && barMs <= done) {
        metrics.barsSkipped.inc({ sleeve: name });
        continue;
      }
      // A paused sleeve's progress moves on too: a restart warms it up over these bars from Postgres.
      advanced.push({
        sleeve: name,
        instrument: bar.instrument,
        timeframe: bar.timeframe,
        barTs: bar.ts,
        barMs,
      });
      if (!runner.strategy || runner.paused !== null) continue;
      let decisions: ParsedDecision[];
      try {
        decisions = parseDecisions(
          runner.strategy.onBar(bar, strategyContext(book, runner, clock(), false)),
          runner.config.instruments,
        );
      } catch (error) {
        await pauser.pause(runner, 'bar', error, bar.ts);
        continue;
      }
      if (decisions.length === 0) continue;
      if (stale) {
        metrics.staleBars.inc({ sleeve: name });
        const streak = (this.lateStreaks.get(name) ?? 0) + 1;
        this.lateStreaks.set(name, streak);
        (streak === 1 ? log.warn.bind(log) : log.debug.bind(log))(
          { sleeve: name, barTs: bar.ts, closedAgoMs },
          'bar processed too late to act on; decisions dropped (until bars are current again)',
        );
        continue;
      }
      const streak = this.lateStreaks.get(name);
      if (streak !== undefined) {
        this.lateStreaks.delete(name);
        log.info({ sleeve: name, lateBars: streak, barTs: bar.ts }, 'bars are current again; acting on them');
      }
      const orders = this.ordersOf(runner, decisions);
      if (orders.length > 0) batches.push({ runner, orders });
    }
    if (advanced.length === 0) return;
    await emitter.emit(
      { ts: bar.ts, instrument: bar.instrument, timeframe: bar.timeframe, sequenceBase: 0 },
      batches,
      advanced,
    );
    for (const row of advanced) progress.record(row.sleeve, row.instrument, row.timeframe, barMs);
    metrics.barsProcessed.inc({ instrument: bar.instrument, timeframe: bar.timeframe });
    metrics.barSeconds.observe((performance.now() - startedAt) / 1000);
    sleeveMetrics.update();
  }

  async processTick(tick: Tick): Promise<void> {
    const { runners, book, prices, emitter, pauser, clock } = this.deps;
    const price =
      tick.last ?? (tick.bid && tick.ask ? new Decimal(tick.bid).add(tick.ask).div(2).toFixed() : undefined);
    if (price !== undefined) prices.set(tick.instrument, price, Date.parse(tick.ts));
    if (clock() - Date.parse(tick.ts) > this.deps.maxBarDelayMs) return;
    const byTimeframe = new Map<Timeframe, Array<Batch<SleeveRunner>>>();
    for (const runner of runners.forTick(tick.instrument)) {
      if (!runner.strategy?.onTick || runner.paused !== null) continue;
      let decisions: ParsedDecision[];
      try {
        decisions = parseDecisions(
          runner.strategy.onTick(tick, strategyContext(book, runner, clock(), false)),
          runner.config.instruments,
        );
      } catch (error) {
        await pauser.pause(runner, 'tick', error, tick.ts);
        continue;
      }
      const orders = decisions.length > 0 ? this.ordersOf(runner, decisions) : [];
      if (orders.length === 0) continue;
      const list = byTimeframe.get(runner.config.timeframe) ?? [];
      list.push({ runner, orders });
      byTimeframe.set(runner.config.timeframe, list);
    }
    for (const [timeframe, batches] of byTimeframe) {
      await emitter.emit(
        { ts: tick.ts, instrument: tick.instrument, timeframe, sequenceBase: TICK_SEQUENCE_BASE },
        batches,
        [],
      );
    }
  }

  /** Sizes decisions against what the sleeve holds and has in flight, at the last prices. */
  private ordersOf(runner: SleeveRunner, decisions: readonly ParsedDecision[]): CandidateOrder[] {
    const { book, prices, log } = this.deps;
    let view = this.views.get(runner);
    if (!view) this.views.set(runner, (view = new SizingView(runner, prices, book)));
    const { orders, notes } = ordersFromDecisions(decisions, view, prices.ratesToUsd());
    for (const note of notes) log.warn({ sleeve: runner.config.name }, note);
    return orders;
  }
}

/**
 * What sizing reads of a sleeve: its capital and rules, the last prices and what its book holds and has in
 * flight. One per sleeve, reading the live state through methods: a view of closures built for every bar
 * with orders is not free.
 */
class SizingView implements SleeveView {
  constructor(
    private readonly runner: SleeveRunner,
    private readonly prices: MarketPrices,
    private readonly book: SleeveBook,
  ) {}

  get capitalUsd(): string {
    return this.runner.config.capitalUsd;
  }

  get sizing(): SizingRules {
    return this.runner.config.sizing;
  }

  currencyOf(instrument: InstrumentKey): string {
    return this.prices.currencyOf(instrument) ?? 'USD';
  }

  priceOf(instrument: InstrumentKey): string | undefined {
    return this.prices.price(instrument);
  }

  exposureOf(instrument: InstrumentKey): Decimal {
    const sleeve = this.runner.config.name;
    return this.book.position(sleeve, instrument).add(this.book.pendingQuantity(sleeve, instrument));
  }
}
