/**
 * One instrument's live data: quotes become ticks, 5-second bars become whole 1-minute bars, 1-minute
 * bars (live or backfilled) become the larger timeframes. Everything that leaves here was validated;
 * what fails is counted in `md_invalid_total` and logged, never published.
 */
import {
  type Backoff,
  backoffDelayMs,
  Bar,
  type Instrument,
  instrumentKey,
  instrumentLabel,
  MINUTE_MS,
  type Tick,
  type Timeframe,
} from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { IbMarketData, ResolvedInstrument } from './adapters/ib-market-data';
import type { MarketDataBus } from './adapters/nats-bus';
import type { BarRow, PgBarStore, TickRow } from './adapters/pg-bars';
import type { BatchWriter } from './batch-writer';
import {
  bucketEnd,
  bucketStart,
  buildHigherBar,
  expectedMinutes,
  MinuteAssembler,
  type Ohlcv,
  REAL_TIME_BAR_MS,
} from './domain/bars';
import type { GatewayClock } from './domain/gateway-clock';
import { mergeIntervals } from './domain/gaps';
import { StalenessMonitor } from './domain/staleness';
import { type Interval, parseTradingHours, TradingCalendar } from './domain/trading-hours';
import { checkBar, checkNotFuture, InvalidKind, type RawBar, TickBook } from './domain/validation';
import type { IngestorMetrics } from './metrics';

export interface FeedContext {
  clock: GatewayClock;
  wallClock: () => number;
  marketData: IbMarketData;
  bus: MarketDataBus;
  store: PgBarStore;
  barWriter: BatchWriter<BarRow>;
  tickWriter: BatchWriter<TickRow> | undefined;
  metrics: IngestorMetrics;
  logger: Logger;
  /** Timeframes above 1m to build. */
  higherTimeframes: readonly Timeframe[];
  stockWhatToShow: string;
  staleAfterMs: number;
  /** How far back 1-minute bars are kept in memory (the look-back plus the largest timeframe). */
  retentionMs: number;
  /**
   * Called when a run of live 5-second bars reaches its seam: the minutes before it (the partial minute it
   * started in, a hole before it) are over and history can fill them.
   */
  onLiveSeam: (feed: InstrumentFeed) => void;
}

/** At most one log line per instrument and kind of bad data in this window. */
const INVALID_LOG_INTERVAL_MS = 10_000;
/**
 * How far (gateway time) a 5-second bar may end after the gateway's clock as we estimate it, plus one wall
 * second's worth at the clock's speed: room for estimate error, never for a bar from the future.
 */
const FUTURE_TOLERANCE_MS = 10_000;
const BARS_RETRY: Backoff = { firstMs: 1_000, maxMs: 60_000 };

export class InstrumentFeed {
  readonly key: string;
  readonly label: string;
  resolved: ResolvedInstrument | undefined;
  calendar: TradingCalendar = TradingCalendar.alwaysOpen();
  /** Gateway time of the last contract-details refresh. */
  resolvedAt = 0;
  reportedUnknown = false;
  quotesRequestId: number | undefined;
  barsRequestId: number | undefined;
  readonly assembler = new MinuteAssembler();
  readonly staleness: StalenessMonitor;
  /** Windows history answered (from the database and from this process). */
  coverage: Interval[] = [];
  /** Windows history refused lately, not asked again before `until` (wall ms; Infinity: given up). */
  cooldowns: Array<Interval & { until: number }> = [];
  /** Windows history refused, with how many rounds of attempts each took. */
  refusals: Array<Interval & { rounds: number }> = [];

  private readonly book = new TickBook();
  private tickFlushScheduled = false;
  private lastBarPartTs: number | undefined;
  private lastStoredTickTs = 0;
  private lastTickTs = 0;
  private tickSeq = 0;
  /** 1-minute bars this process published or loaded, by open time. */
  private readonly minutes = new Map<number, Ohlcv>();
  /** Which of those were built from live data (a larger bar is `live` if any of its minutes is). */
  private readonly liveMinutes = new Set<number>();
  private newestMinute: number | undefined;
  private readonly loadedBuckets = new Set<string>();
  private readonly emittedHigher = new Set<string>();
  private derivation: Promise<void> = Promise.resolve();
  private readonly invalidLoggedAt = new Map<string, number>();
  /** Whether the current live run has reached its seam (and the repair was asked for). */
  private seamReached = false;
  /** Refusals of the 5-second bars since the last bar arrived (sets the pause before asking again). */
  private barsRefusals = 0;
  private readonly log: Logger;

  constructor(
    readonly instrument: Instrument,
    private readonly ctx: FeedContext,
    readonly storeTicks: boolean,
  ) {
    this.key = instrumentKey(instrument);
    this.label = instrumentLabel(instrument);
    this.staleness = new StalenessMonitor(ctx.staleAfterMs);
    this.log = ctx.logger.child({ instrument: this.key });
  }

  get whatToShow(): string {
    return this.instrument.secType === 'CASH' ? 'MIDPOINT' : this.ctx.stockWhatToShow;
  }

  /** Takes the gateway's contract details: conId, hours, zone. */
  setResolved(resolved: ResolvedInstrument): void {
    this.resolved = resolved;
    this.resolvedAt = this.ctx.clock.now();
    try {
      this.calendar = parseTradingHours(resolved.tradingHours, resolved.timeZoneId);
    } catch (error) {
      // Without readable hours every minute counts as open: nothing is skipped, at worst asked in vain.
      this.log.error({ err: error }, 'unreadable trading hours; treating the market as always open');
      this.calendar = TradingCalendar.alwaysOpen();
    }
  }

  isMarketOpen(): boolean {
    return this.calendar.isOpen(this.ctx.clock.now());
  }

  /** Starts quotes and 5-second bars on the current session. */
  subscribe(): void {
    if (!this.resolved) return;
    this.unsubscribe();
    this.book.reset();
    this.assembler.reset();
    this.seamReached = false;
    this.lastBarPartTs = undefined;
    this.quotesRequestId = this.ctx.marketData.subscribeQuotes(this.resolved.contract);
    this.barsRequestId = this.ctx.marketData.subscribeRealTimeBars(
      this.resolved.contract,
      this.whatToShow,
      false,
    );
    this.ctx.metrics.subscribed.set({ instrument: this.key }, 1);
    // Silence is counted from the subscription until the first tick, so the documented alert on
    // `time() - md_last_tick_unix` also fires for an instrument that never ticks.
    if (this.lastTickTs === 0)
      this.ctx.metrics.lastTick.set({ instrument: this.key }, this.ctx.wallClock() / 1000);
    this.log.info({ whatToShow: this.whatToShow }, 'subscribed to quotes and 5-second bars');
  }

  /**
   * The pause before the refused 5-second bars are asked for again: 1 s, doubling to at most a minute,
   * back to 1 s once a bar arrives. Without bars nothing else notices: quotes and the session may be fine.
   */
  nextBarsRetryDelayMs(): number {
    const delay = backoffDelayMs(this.barsRefusals + 1, BARS_RETRY);
    this.barsRefusals += 1;
    return delay;
  }

  /** Asks for the 5-second bars again (after a refusal); quotes stay as they are. */
  resubscribeBars(): void {
    if (!this.resolved) return;
    if (this.barsRequestId !== undefined) this.ctx.marketData.cancelRealTimeBars(this.barsRequestId);
    this.barsRequestId = this.ctx.marketData.subscribeRealTimeBars(
      this.resolved.contract,
      this.whatToShow,
      false,
    );
    this.log.info({ whatToShow: this.whatToShow }, 'asked for the 5-second bars again');
  }

  unsubscribe(): void {
    if (this.quotesRequestId !== undefined) this.ctx.marketData.cancelQuotes(this.quotesRequestId);
    if (this.barsRequestId !== undefined) this.ctx.marketData.cancelRealTimeBars(this.barsRequestId);
    this.quotesRequestId = undefined;
    this.barsRequestId = undefined;
    this.ctx.metrics.subscribed.set({ instrument: this.key }, 0);
  }

  /** The session ended: subscriptions are gone with it. */
  sessionEnded(): void {
    this.quotesRequestId = undefined;
    this.barsRequestId = undefined;
    this.ctx.metrics.subscribed.set({ instrument: this.key }, 0);
  }

  // ---------------------------------------------------------------- ticks

  onPrice(field: number, value: number): void {
    if (this.book.startsNewQuote(field)) this.publishTick();
    const result = this.book.applyPrice(field, value);
    if (!result.ok) return this.invalid(result.kind, result.reason);
    if (result.value) this.scheduleTick();
  }

  onSize(field: number, value: number | undefined): void {
    if (this.book.startsNewQuote(field)) this.publishTick();
    const result = this.book.applySize(field, value);
    if (!result.ok) return this.invalid(result.kind, result.reason);
    if (result.value) this.scheduleTick();
  }

  /**
   * IB sends a price and its size as separate messages: the tick goes out after the burst (or earlier, when
   * an update starts the next quote, so no quote is conflated away).
   */
  private scheduleTick(): void {
    if (this.tickFlushScheduled) return;
    this.tickFlushScheduled = true;
    setImmediate(() => {
      this.tickFlushScheduled = false;
      this.publishTick();
    });
  }

  private publishTick(): void {
    if (!this.book.hasChanges) return;
    // Strictly increasing venue times: the tick's Nats-Msg-Id holds its time and prices but not its sizes,
    // so two quotes in one millisecond that differ only in size would otherwise collapse into one.
    const ts = Math.max(this.ctx.clock.now(), this.lastTickTs + 1);
    const result = this.book.snapshot(ts);
    if (!result.ok) return this.invalid(result.kind, result.reason);
    if (!result.value) return;
    this.lastTickTs = ts;
    const receivedAt = this.ctx.wallClock();
    const tick: Tick = {
      v: 1,
      instrument: this.key,
      ts: new Date(ts).toISOString(),
      receivedAt: new Date(receivedAt).toISOString(),
      ...result.value,
    };
    this.ctx.bus.publishTick(tick);
    this.ctx.metrics.ticks.inc({ instrument: this.key });
    this.ctx.metrics.lastTick.set({ instrument: this.key }, receivedAt / 1000);
    this.staleness.tick(receivedAt);
    if (this.storeTicks && this.ctx.tickWriter) {
      this.tickSeq = ts === this.lastStoredTickTs ? this.tickSeq + 1 : 0;
      this.lastStoredTickTs = ts;
      const value = result.value;
      this.ctx.tickWriter.enqueue({
        instrument: this.key,
        ts,
        seq: this.tickSeq,
        bid: value.bid ?? null,
        ask: value.ask ?? null,
        last: value.last ?? null,
        bidSize: value.bidSize ?? null,
        askSize: value.askSize ?? null,
        lastSize: value.lastSize ?? null,
      });
    }
  }

  // ---------------------------------------------------------------- live bars

  onRealTimeBar(raw: RawBar): void {
    const checked = checkBar(raw, this.lastBarPartTs);
    if (!checked.ok) return this.invalid(checked.kind, checked.reason);
    if (raw.ts % REAL_TIME_BAR_MS !== 0)
      return this.invalid(InvalidKind.badTime, `5-second bar at ${raw.ts}`);
    const latestEnd = this.ctx.clock.now() + FUTURE_TOLERANCE_MS + this.ctx.clock.speed * 1_000;
    const inTime = checkNotFuture(raw.ts, REAL_TIME_BAR_MS, latestEnd);
    if (!inTime.ok) return this.invalid(inTime.kind, inTime.reason);
    this.lastBarPartTs = raw.ts;
    this.barsRefusals = 0;
    this.ctx.clock.observeLowerBound(raw.ts + REAL_TIME_BAR_MS);
    for (const event of this.assembler.push(checked.value)) {
      if (event.type === 'minute') this.emitLiveMinute(event.bar);
      else {
        this.seamReached = false;
        this.log.debug(
          { from: new Date(event.from).toISOString(), previousEnd: event.previousEnd },
          'live 5-second series (re)started',
        );
      }
    }
    if (!this.seamReached && this.liveSeam() !== undefined) {
      // Everything before the first whole live minute is now over at the gateway: history's to fill.
      this.seamReached = true;
      this.ctx.onLiveSeam(this);
    }
  }

  /**
   * Where live data takes over: the first minute of the current unbroken run of 5-second bars that live
   * data covers whole, once that minute has begun (so every minute before it is over at the gateway).
   * Undefined while no run has reached that point.
   */
  liveSeam(): number | undefined {
    const first = this.assembler.firstWholeMinute;
    const end = this.assembler.lastPartEnd;
    return first !== undefined && end !== undefined && end > first ? first : undefined;
  }

  private emitLiveMinute(ohlcv: Ohlcv): void {
    const bar = this.toBar('1m', ohlcv, 'live');
    if (!bar) return;
    this.remember([ohlcv]);
    this.ctx.barWriter.enqueue(toRow(bar, ohlcv));
    void this.ctx.bus.publishBar(bar);
    this.counted(bar);
    this.deriveHigher([ohlcv.ts]);
  }

  // ---------------------------------------------------------------- backfill

  /** 1-minute bars present (published or loaded) in [from, to). */
  knownMinutes(from: number, to: number): Set<number> {
    const present = new Set<number>();
    for (const ts of this.minutes.keys()) if (ts >= from && ts < to) present.add(ts);
    return present;
  }

  /** Adds bars that are known to be stored (loaded from the database). */
  rememberStored(bars: readonly Ohlcv[]): void {
    for (const bar of bars) if (!this.minutes.has(bar.ts)) this.minutes.set(bar.ts, bar);
  }

  /**
   * Checks, stores (with the window they came from) and publishes bars from one historical answer, except
   * those in `stored` (minute times the gap check found in Postgres). Returns how many new bars were stored. Rejects when the database write fails; nothing is published then.
   */
  async acceptHistory(
    raw: readonly RawBar[],
    window: Interval,
    stored: ReadonlySet<number> = new Set(),
  ): Promise<number> {
    const accepted: Ohlcv[] = [];
    let previous: number | undefined;
    for (const candidate of [...raw].sort((a, b) => a.ts - b.ts)) {
      if (candidate.ts < window.start || candidate.ts + MINUTE_MS > window.end) continue;
      const checked = checkBar(candidate, previous);
      if (!checked.ok) {
        this.invalid(checked.kind, checked.reason);
        continue;
      }
      if (candidate.ts % MINUTE_MS !== 0) {
        this.invalid(InvalidKind.badTime, `historical bar at ${candidate.ts}`);
        continue;
      }
      previous = candidate.ts;
      // A minute live data already delivered, or one stored before (a request spans the bars between
      // holes), stays as it is: publishing it again would be a real duplicate once JetStream's duplicate
      // window (2 minutes) is over.
      if (!this.minutes.has(candidate.ts) && !stored.has(candidate.ts)) accepted.push(checked.value);
    }
    const bars = accepted.flatMap((ohlcv) => {
      const bar = this.toBar('1m', ohlcv, 'backfill');
      return bar ? [{ bar, ohlcv }] : [];
    });
    await this.ctx.store.writeBars(
      bars.map(({ bar, ohlcv }) => toRow(bar, ohlcv)),
      [{ instrument: this.key, timeframe: '1m', start: window.start, end: window.end }],
    );
    this.coverage = mergeIntervals([...this.coverage, window]);
    this.remember(bars.map(({ ohlcv }) => ohlcv));
    await Promise.all(bars.map(({ bar }) => this.ctx.bus.publishBar(bar)));
    for (const { bar } of bars) this.counted(bar);
    this.deriveHigher(bars.map(({ ohlcv }) => ohlcv.ts));
    return bars.length;
  }

  /** Waits for the larger-timeframe bars derived so far (for a clean stop and for tests). */
  idle(): Promise<void> {
    return this.derivation;
  }

  // ---------------------------------------------------------------- larger timeframes

  /**
   * Builds the larger bars whose bucket the new minutes touched, once each bucket is complete. Runs one
   * derivation at a time per instrument; a bucket missing minutes loads them from Postgres once (they may
   * have been stored before a restart).
   */
  private deriveHigher(minuteTimes: readonly number[]): void {
    if (this.ctx.higherTimeframes.length === 0 || minuteTimes.length === 0) return;
    this.derivation = this.derivation
      .then(() => this.deriveNow(minuteTimes))
      .catch((error: unknown) => {
        this.ctx.metrics.databaseErrors.inc({ operation: 'derive_timeframes' });
        this.log.error({ err: error }, 'could not build the larger timeframes');
      });
  }

  private async deriveNow(minuteTimes: readonly number[]): Promise<void> {
    for (const timeframe of this.ctx.higherTimeframes) {
      const buckets = [...new Set(minuteTimes.map((ts) => bucketStart(timeframe, ts, this.calendar)))].sort(
        (a, b) => a - b,
      );
      for (const start of buckets) {
        const id = `${timeframe}:${start}`;
        if (this.emittedHigher.has(id)) continue;
        const end = bucketEnd(timeframe, start, this.calendar);
        const expected = expectedMinutes(this.calendar, start, end);
        const missing = expected.filter((minute) => !this.minutes.has(minute) && !this.isKnownEmpty(minute));
        if (missing.length > 0 && !this.loadedBuckets.has(id)) {
          this.loadedBuckets.add(id);
          this.rememberStored(await this.ctx.store.barsBetween(this.key, '1m', start, end));
        }
        const minutes = expected.flatMap((minute) => this.minutes.get(minute) ?? []);
        const ohlcv = buildHigherBar({
          timeframe,
          start,
          minutes,
          calendar: this.calendar,
          isKnownEmpty: (minute) => this.isKnownEmpty(minute),
        });
        if (!ohlcv) continue;
        const source = minutes.some((minute) => this.sourceOf(minute) === 'live') ? 'live' : 'backfill';
        const bar = this.toBar(timeframe, ohlcv, source);
        if (!bar) continue;
        this.emittedHigher.add(id);
        this.ctx.barWriter.enqueue(toRow(bar, ohlcv));
        void this.ctx.bus.publishBar(bar);
        this.counted(bar);
      }
    }
  }

  private sourceOf(minute: Ohlcv): 'live' | 'backfill' {
    return this.liveMinutes.has(minute.ts) ? 'live' : 'backfill';
  }

  private isKnownEmpty(minute: number): boolean {
    return this.coverage.some((window) => window.start <= minute && minute + MINUTE_MS <= window.end);
  }

  // ---------------------------------------------------------------- helpers

  private remember(bars: readonly Ohlcv[]): void {
    for (const bar of bars) this.minutes.set(bar.ts, bar);
    this.prune();
  }

  /** Forgets a live bar that never reached Postgres (dropped from a full queue), so a gap check sees it. */
  forget(ts: number): void {
    this.minutes.delete(ts);
    this.liveMinutes.delete(ts);
  }

  private prune(): void {
    const horizon = this.ctx.clock.now() - this.ctx.retentionMs;
    if (this.minutes.size < 2_048) return;
    for (const ts of this.minutes.keys()) {
      if (ts < horizon) {
        this.minutes.delete(ts);
        this.liveMinutes.delete(ts);
      }
    }
    for (const id of this.emittedHigher)
      if (Number(id.split(':')[1]) < horizon) this.emittedHigher.delete(id);
    for (const id of this.loadedBuckets)
      if (Number(id.split(':')[1]) < horizon) this.loadedBuckets.delete(id);
  }

  private toBar(timeframe: Timeframe, ohlcv: Ohlcv, source: 'live' | 'backfill'): Bar | undefined {
    const candidate = {
      v: 1 as const,
      instrument: this.key,
      timeframe,
      ts: new Date(ohlcv.ts).toISOString(),
      open: ohlcv.open,
      high: ohlcv.high,
      low: ohlcv.low,
      close: ohlcv.close,
      volume: ohlcv.volume,
      source,
      receivedAt: new Date(this.ctx.wallClock()).toISOString(),
    };
    const parsed = Bar.safeParse(candidate);
    if (!parsed.success) {
      this.invalid(InvalidKind.contract, parsed.error.issues.map((issue) => issue.message).join('; '));
      return undefined;
    }
    if (timeframe === '1m' && source === 'live') this.liveMinutes.add(ohlcv.ts);
    return parsed.data;
  }

  private counted(bar: Bar): void {
    this.ctx.metrics.bars.inc({ instrument: this.key, timeframe: bar.timeframe, source: bar.source });
    if (bar.timeframe === '1m') {
      const ts = Date.parse(bar.ts) / 1000;
      const gauge = this.ctx.metrics.lastBar;
      // Only forward: a backfilled old bar does not make the series look older.
      const current = this.newestMinute ?? 0;
      if (ts > current) {
        this.newestMinute = ts;
        gauge.set({ instrument: this.key }, ts);
      }
    }
  }

  private invalid(kind: InvalidKind, reason: string): void {
    this.ctx.metrics.invalid.inc({ instrument: this.key, kind });
    const now = this.ctx.wallClock();
    const last = this.invalidLoggedAt.get(kind) ?? 0;
    if (now - last < INVALID_LOG_INTERVAL_MS) return;
    this.invalidLoggedAt.set(kind, now);
    this.log.warn({ kind, reason }, 'dropped invalid market data');
  }
}

function toRow(bar: Bar, ohlcv: Ohlcv): BarRow {
  return { ...ohlcv, instrument: bar.instrument, timeframe: bar.timeframe, source: bar.source };
}
