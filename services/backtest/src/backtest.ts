/**
 * Runs sleeves over historical bars with the code that trades them: the strategy's own pipeline (the
 * sleeves' strategies, sizing, pre-trade risk and intent ids) on in-memory ports, the gateway-sim's matching
 * engine and commissions in process, and a simulated account whose snapshots feed the loss and drawdown
 * rules. Time is the bars' time: each bar is processed at its close, as the live stack does when the bar
 * arrives.
 */
import {
  type AuditEntry,
  type Bar,
  type OrderIntent,
  parseIsoMs,
  type SystemEvent,
  TIMEFRAME_SECONDS,
  type TradingState,
} from '@ibstack/contracts';
import { createLogger, createRegistry, type Logger } from '@ibstack/observability';
import { type DrawdownLevel, drawdownLevel } from '@ibstack/risk';
import {
  createStrategyCore,
  MemoryStrategyStore,
  type SleevesConfig,
  type StrategyEvents,
  type StrategyMetrics,
  strategyMetrics,
  type VersionedTradingState,
  warmUp,
} from '@ibstack/strategy';

import { BarQuotes } from './bar-quotes';
import { SimAccount } from './sim-account';
import { computeStatistics, type Statistics } from './statistics';
import { BACKTEST_ACCOUNT, SimVenue, type Trade } from './venue';

export interface BacktestOptions {
  sleeves: SleevesConfig;
  /** Every bar the run may use, any order: those before `fromMs` warm the strategies up. */
  bars: readonly Bar[];
  /** Bars opening in [fromMs, toMs) are replayed. */
  fromMs: number;
  toMs: number;
  initialCashUsd: number;
  /** @default silent */
  log?: Logger;
  /** Called every `progressEvery` (500) bars and at the end. */
  onProgress?: (done: number, total: number, barTs: string) => void;
  progressEvery?: number;
}

export interface IntentRecord {
  intent: OrderIntent;
  status: 'accepted' | 'blocked';
  riskReason: string | null;
}

export interface BacktestResult {
  intents: readonly IntentRecord[];
  trades: readonly Trade[];
  /** Equity (USD net liquidation) after each replayed bar time. */
  equity: { times: Float64Array; values: Float64Array };
  statistics: Statistics;
  /** Close prices of the replayed bars per instrument, for the chart. */
  prices: ReadonlyMap<string, { times: number[]; closes: number[] }>;
  systemEvents: readonly SystemEvent[];
  audits: readonly AuditEntry[];
  rejections: ReadonlyArray<{ intentId: string; code: number; message: string }>;
  /** Sleeves whose strategy failed, with why. */
  paused: ReadonlyArray<{ sleeve: string; reason: string }>;
  /** Each change of the trading state during the run (the risk rules' switch to REDUCING), in order. */
  tradingStateChanges: readonly TradingState[];
  barsReplayed: number;
}

/** The trading state and announcements in memory; intents go straight to the venue. */
class BacktestEvents implements StrategyEvents {
  private state: VersionedTradingState | null = null;
  readonly stateChanges: TradingState[] = [];
  readonly systemEvents: SystemEvent[] = [];
  readonly audits: AuditEntry[] = [];

  constructor(private readonly venue: SimVenue) {}

  publishIntent(intent: OrderIntent): Promise<void> {
    this.venue.place(intent);
    return Promise.resolve();
  }

  publishAudit(entry: AuditEntry): Promise<void> {
    this.audits.push(entry);
    return Promise.resolve();
  }

  publishSystemEvent(event: SystemEvent): Promise<void> {
    this.systemEvents.push(event);
    return Promise.resolve();
  }

  tradingState(): Promise<VersionedTradingState | null> {
    return Promise.resolve(this.state);
  }

  /** A backtest keeps one copy of the state, in memory: it is in force as it is (RUNNING until set). */
  tradingStateInForce(): Promise<TradingState> {
    return Promise.resolve(this.state?.value ?? RUNNING);
  }

  setTradingState(state: TradingState, revision: number | null): Promise<boolean> {
    if ((this.state?.revision ?? null) !== revision) return Promise.resolve(false);
    this.state = { value: state, revision: (revision ?? 0) + 1 };
    this.stateChanges.push(state);
    return Promise.resolve(true);
  }
}

/** The state a backtest starts in (one object: the risk check only reads it). */
const RUNNING: TradingState = Object.freeze({
  v: 1,
  state: 'RUNNING',
  reason: 'backtest',
  by: 'backtest',
  at: new Date(0).toISOString(),
});

/**
 * Bars oldest first, with their open times (epoch ms) parsed once, side by side: a year of minutes is half
 * a million bars, and an object per bar to pair them is that much more for the collector to copy.
 */
interface TimedBars {
  bars: Bar[];
  times: Float64Array;
}

/** The bars in time order (bars of one time in the order given), with their times. */
function timeBars(given: readonly Bar[]): TimedBars {
  const times = new Float64Array(given.length);
  let ordered = true;
  for (let index = 0; index < given.length; index++) {
    times[index] = parseIsoMs(given[index]!.ts);
    // Not `<`: a time that is not a number (NaN) leaves the order to the sort, as it always did.
    if (index > 0 && !(times[index]! >= times[index - 1]!)) ordered = false;
  }
  // Bars usually come in order already; otherwise a stable sort of their positions by time.
  if (ordered) return { bars: [...given], times };
  const order = Array.from(given.keys()).sort((a, b) => times[a]! - times[b]!);
  return {
    bars: order.map((index) => given[index]!),
    times: Float64Array.from(order, (index) => times[index]!),
  };
}

/** Index of the first of the time-ordered bars opening at or after `time` (from `from` on). */
function firstAtOrAfter(times: Float64Array, time: number, from = 0): number {
  let index = from;
  while (index < times.length && times[index]! < time) index += 1;
  return index;
}

/** The time-ordered bars per instrument; the whole set when they are all of one. */
function byInstrument(timed: TimedBars): Map<string, TimedBars> {
  const { bars, times } = timed;
  const first = bars[0]?.instrument;
  if (first !== undefined && bars.every((bar) => bar.instrument === first)) return new Map([[first, timed]]);
  const groups = new Map<string, { bars: Bar[]; times: number[] }>();
  for (let index = 0; index < bars.length; index++) {
    const bar = bars[index]!;
    let group = groups.get(bar.instrument);
    if (!group) groups.set(bar.instrument, (group = { bars: [], times: [] }));
    group.bars.push(bar);
    group.times.push(times[index]!);
  }
  return new Map(
    [...groups].map(([key, group]) => [key, { bars: group.bars, times: Float64Array.from(group.times) }]),
  );
}

/** The bars of the finest timeframe among them (all of them when they share one), with that timeframe. */
function finestOf(timed: TimedBars): { finest: TimedBars; seconds: number } {
  const { bars, times } = timed;
  let seconds = Number.POSITIVE_INFINITY;
  let mixed = false;
  for (const bar of bars) {
    const barSeconds = TIMEFRAME_SECONDS[bar.timeframe];
    if (seconds !== Number.POSITIVE_INFINITY && barSeconds !== seconds) mixed = true;
    seconds = Math.min(seconds, barSeconds);
  }
  if (!mixed) return { finest: timed, seconds };
  const finestBars: Bar[] = [];
  const finestTimes: number[] = [];
  for (let index = 0; index < bars.length; index++) {
    if (TIMEFRAME_SECONDS[bars[index]!.timeframe] !== seconds) continue;
    finestBars.push(bars[index]!);
    finestTimes.push(times[index]!);
  }
  return { finest: { bars: finestBars, times: Float64Array.from(finestTimes) }, seconds };
}

/** Stands in for each metric's update: nobody scrapes a backtest, and an update per bar is not free. */
const SILENT = { inc() {}, dec() {}, set() {}, observe() {} };

/** The strategy's metrics with their updates switched off. */
function silentMetrics(): StrategyMetrics {
  const metrics = strategyMetrics(createRegistry('backtest', { defaultMetrics: false }));
  for (const metric of Object.values(metrics)) Object.assign(metric, SILENT);
  return metrics;
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const { sleeves, fromMs, toMs } = options;
  const log = options.log ?? createLogger({ service: 'backtest', level: 'silent' });
  let now = fromMs;
  const clock = () => now;

  // Every bar oldest first, each bar's time parsed once, here: the loop below reads it for every bar. Bars
  // usually come in order already, and then the sort (stable, so it would leave them as they are) is skipped.
  const timed = timeBars(options.bars);
  // In time order the warm-up history is a prefix and the replay the run after it.
  const replayStart = firstAtOrAfter(timed.times, fromMs);
  const replayEnd = firstAtOrAfter(timed.times, toMs, replayStart);
  const history = timed.bars.slice(0, replayStart);

  const quotes = new BarQuotes(sleeves.fxRatesToUsd);
  const venue = new SimVenue({
    instruments: sleeves.instruments.values(),
    quotes,
    initialCashUsd: options.initialCashUsd,
    clock,
  });
  // The venue prices each instrument from its finest bars.
  for (const [key, instrumentBars] of byInstrument(timed)) {
    const venueInstrument = venue.venueInstrument(key);
    if (!venueInstrument) continue;
    const { finest, seconds } = finestOf(instrumentBars);
    quotes.addBars(venueInstrument, finest.bars, seconds * 1000, finest.times);
  }

  const store = new MemoryStrategyStore();
  store.addBars(history);
  const events = new BacktestEvents(venue);
  let stopping = false;
  // Set below, once the core's account monitor exists.
  let accountSnapshotDue = (): Promise<void> => Promise.resolve();
  const core = createStrategyCore(
    {
      sleeves,
      maxBarDelayMs: 120_000,
      intentMaxAgeMs: 120_000,
      pendingTtlMs: 900_000,
      exportSleeveGauges: false,
    },
    {
      store,
      events,
      log,
      metrics: silentMetrics(),
      clock,
      isStopping: () => stopping,
      service: 'backtest',
      accountSnapshotDue: () => accountSnapshotDue(),
    },
  );
  const { runners, pauser, tracker, account, pipeline } = core;
  await runners.createStrategies((runner, error) =>
    pauser.pause(runner, 'create', error, new Date(now).toISOString()),
  );
  await warmUp({
    store,
    runners: runners.all,
    progress: core.progress,
    prices: core.prices,
    book: core.book,
    pauser,
    log,
    clock,
  });

  const simAccount = new SimAccount(venue.broker, BACKTEST_ACCOUNT);
  const limits = sleeves.accountRisk;
  /** The drawdown level of the last snapshot handed to the account monitor: its watch stands there. */
  let deliveredLevel: DrawdownLevel = 'normal';
  /** Whether the latest observation's snapshot is held back (see closeStep). */
  let heldBack = false;
  const deliver = async () => {
    heldBack = false;
    const snapshot = simAccount.snapshot();
    deliveredLevel = drawdownLevel(snapshot, limits);
    await account.onSnapshot(snapshot);
  };
  accountSnapshotDue = () => (heldBack ? deliver() : Promise.resolve());
  simAccount.observe(now);
  await deliver();

  /** Hands fills and order events to the order tracker (the loop calls it only when there are some). */
  const settle = async (): Promise<boolean> => {
    const { fills, orderEvents } = venue.drain();
    for (const fill of fills) await tracker.onFill(fill);
    for (const event of orderEvents) await tracker.onOrderEvent(event);
    return fills.length > 0;
  };

  const times: number[] = [];
  const values: number[] = [];
  const prices = new Map<string, { times: number[]; closes: number[] }>();
  let inMarketSteps = 0;
  let filledSinceSnapshot = false;
  /**
   * Equity, exposure and (when anything could have changed) an account snapshot for the risk rules. The
   * monitor gets the snapshot at once when its drawdown level may have moved (the monitor acts on a change)
   * or stands at reducing (the monitor asks again after a failed switch); otherwise the snapshot changes
   * nothing but what the next order's risk check reads, so it is worked out and handed over only if an
   * order comes before the next one (`accountSnapshotDue`): the same snapshots at the same checks.
   */
  const closeStep = (time: number): Promise<void> | undefined => {
    const inMarket = venue.hasPosition();
    if (inMarket) inMarketSteps += 1;
    // A promise only when a snapshot is handed over: most steps have nothing to wait for.
    let delivering: Promise<void> | undefined;
    if (inMarket || filledSinceSnapshot || simAccount.isNewDay(time) || values.length === 0) {
      values.push(simAccount.observe(time));
      filledSinceSnapshot = false;
      const level = simAccount.drawdownLevel(limits);
      if (level === undefined || level !== deliveredLevel || level === 'reducing') delivering = deliver();
      else heldBack = true;
    } else {
      values.push(values[values.length - 1]!);
    }
    times.push(time);
    return delivering;
  };

  const { bars, times: barTimes } = timed;
  const total = replayEnd - replayStart;
  const every = options.progressEvery ?? 500;
  let stepTime: number | undefined;
  try {
    for (let index = replayStart; index < replayEnd; index++) {
      const bar = bars[index]!;
      const time = barTimes[index]!;
      const end = time + TIMEFRAME_SECONDS[bar.timeframe] * 1000;
      if (end !== stepTime) {
        if (stepTime !== undefined) {
          const delivering = closeStep(stepTime);
          if (delivering) await delivering;
        }
        stepTime = end;
        now = end;
        venue.advance();
        if (venue.hasNews() && (await settle())) filledSinceSnapshot = true;
      }
      let series = prices.get(bar.instrument);
      if (!series) prices.set(bar.instrument, (series = { times: [], closes: [] }));
      series.times.push(end);
      series.closes.push(Number(bar.close));
      await pipeline.processBar(bar, time);
      if (venue.hasNews() && (await settle())) filledSinceSnapshot = true;
      const done = index - replayStart + 1;
      if (options.onProgress && done % every === 0) options.onProgress(done, total, bar.ts);
    }
    if (stepTime !== undefined) {
      const delivering = closeStep(stepTime);
      if (delivering) await delivering;
    }
  } finally {
    stopping = true;
  }
  options.onProgress?.(total, total, total > 0 ? bars[replayEnd - 1]!.ts : new Date(toMs).toISOString());

  const intents = store.intents().map(({ intent, status, riskReason }) => ({ intent, status, riskReason }));
  return {
    intents,
    trades: venue.trades,
    equity: { times: Float64Array.from(times), values: Float64Array.from(values) },
    statistics: computeStatistics({
      initialEquityUsd: options.initialCashUsd,
      times,
      equity: values,
      trades: venue.trades,
      inMarketSteps,
      totalSteps: times.length,
    }),
    prices,
    systemEvents: events.systemEvents,
    audits: [...store.audits, ...events.audits],
    rejections: venue.rejections,
    paused: runners.all
      .filter((runner) => runner.paused !== null)
      .map((runner) => ({ sleeve: runner.config.name, reason: runner.paused! })),
    tradingStateChanges: events.stateChanges,
    barsReplayed: total,
  };
}
