/**
 * Backfill and gap repair, one algorithm for both: find the open-market minutes of the look-back window
 * that have no stored bar (and that history has not already answered as empty), ask IB for them in
 * chunks it accepts, newest first, and store each chunk with the window it covered in one transaction.
 *
 * It runs at start, after every reconnect, after IB's connectivity notices (1101/1102 after 1100), when
 * a new run of live 5-second bars (after a hole, a reconnect, a restart) reaches whole minutes, and
 * periodically. Runs are serialised per instrument; a request
 * made while one runs makes it run once more afterwards. Because each chunk commits on its own and the
 * next run recomputes what is missing, a run cut short (a disconnect mid-backfill, a restart) resumes where
 * it stopped: no chunk is lost and none is stored twice (the bar key makes a second write a no-op anyway).
 *
 * Where history ends: at the first minute the live 5-second bars cover whole, once that minute has begun
 * (so the minute before it is complete at the gateway), while those bars keep arriving; before live data
 * gets there, or once it has stopped (its newest bar older than 15 s), at the last minute that is over by
 * the gateway's clock. Never by our own clock. Reaching the seam asks for a repair, which fetches the
 * minutes between the two.
 */
import type { Logger } from '@ibstack/observability';
import { MINUTE_MS } from '@ibstack/contracts';

import type { HistoricalAnswer } from './adapters/ib-market-data';
import type { PgBarStore } from './adapters/pg-bars';
import { floorTo } from './domain/bars';
import { chunkMinutes, type Chunk, IB_BAR_SIZE, planChunks } from './domain/backfill-plan';
import type { GatewayClock } from './domain/gateway-clock';
import { findMissingRanges, historyEnd, mergeIntervals, minutesIn } from './domain/gaps';
import type { Interval } from './domain/trading-hours';
import {
  GatewayDisconnectedError,
  GatewayTimeoutError,
  HistoricalDataError,
  NoHistoricalDataError,
  StoppedError,
} from './errors';
import type { InstrumentFeed } from './feed';
import type { IngestorMetrics } from './metrics';
import { abortableSleep, type PacedHistory } from './paced-history';
import type { ProgressReporter } from './progress';

export interface GapRepairOptions {
  clock: GatewayClock;
  wallClock: () => number;
  history: PacedHistory;
  store: PgBarStore;
  metrics: IngestorMetrics;
  logger: Logger;
  progress: ProgressReporter;
  lookbackMs: number;
  chunkSeconds: number;
  maxAttempts: number;
  retryDelayMs: number;
  /** How long a refused window is left alone before it is asked again. */
  cooldownMs: number;
  /** Whether the gateway session is ready. */
  isReady: () => boolean;
}

/** Gateway time a minute must be over by before history is asked for it, against clock estimate error. */
const SETTLE_MS = 2_000;
/** A run of 5-second bars whose newest bar is older than this (gateway time) no longer holds the seam. */
const LIVE_MAX_AGE_MS = 15_000;
/** Wall time allowed on top for delivery jitter (matters for a simulator running faster than real time). */
const LIVE_JITTER_WALL_MS = 2_000;
/**
 * Rounds of `maxAttempts` after which a refused window is given up (until a restart): a refusal that
 * persists this long is not pacing, and asking forever would only use up the pacing budget.
 */
const MAX_REFUSAL_ROUNDS = 3;

export type RepairReason = 'start' | 'reconnect' | 'connectivity' | 'live_seam' | 'periodic';

interface RunState {
  running: Promise<void>;
  again: boolean;
}

export class GapRepair {
  private readonly runs = new Map<string, RunState>();
  private readonly stopSignal = new AbortController();

  constructor(private readonly options: GapRepairOptions) {}

  /** Asks for a repair of this instrument; coalesces with one already running. */
  request(feed: InstrumentFeed, reason: RepairReason): void {
    if (this.stopSignal.signal.aborted || !feed.resolved) return;
    const state = this.runs.get(feed.key);
    if (state) {
      state.again = true;
      return;
    }
    const run: RunState = { running: Promise.resolve(), again: false };
    run.running = (async () => {
      let why = reason;
      for (;;) {
        run.again = false;
        await this.repairOnce(feed, why);
        if (!run.again || this.stopSignal.signal.aborted) break;
        why = 'periodic';
      }
    })().finally(() => this.runs.delete(feed.key));
    this.runs.set(feed.key, run);
  }

  /** Whether a repair of this instrument is running or queued. */
  isRunning(key: string): boolean {
    return this.runs.has(key);
  }

  /** Resolves when no repair is running (for stop and tests). */
  async idle(): Promise<void> {
    while (this.runs.size > 0) await Promise.allSettled([...this.runs.values()].map((run) => run.running));
  }

  /** Stops asking: waits end at once and no new run starts. Follow with `idle()`. */
  abort(): void {
    this.stopSignal.abort();
  }

  private async repairOnce(feed: InstrumentFeed, reason: RepairReason): Promise<void> {
    const { options } = this;
    const log = options.logger.child({ instrument: feed.key, reason });
    const signal = this.stopSignal.signal;
    if (!options.isReady() || !feed.resolved) return;
    let chunks: Chunk[] = [];
    let done = 0;
    let bars = 0;
    try {
      const end = this.historyEnd(feed);
      const from = floorTo(options.clock.now() - options.lookbackMs, MINUTE_MS);
      if (end <= from) return;
      const { missing, present } = await this.missingRanges(feed, from, end);
      const missingMinutes = minutesIn(missing);
      options.metrics.gapChecks.inc({ instrument: feed.key });
      options.metrics.gapMinutes.set({ instrument: feed.key }, missingMinutes);
      if (missing.length === 0) {
        options.metrics.backfillProgress.set({ instrument: feed.key }, 1);
        return;
      }
      chunks = planChunks(missing, options.chunkSeconds);
      log.info(
        {
          missingMinutes,
          requests: chunks.length,
          from: new Date(missing[0]!.start).toISOString(),
          to: new Date(missing[missing.length - 1]!.end).toISOString(),
        },
        reason === 'start' ? 'backfilling' : 'repairing a gap',
      );
      options.progress.start(feed.key, chunks.length, missingMinutes);
      options.metrics.backfillProgress.set({ instrument: feed.key }, 0);
      // The next chunk is asked for while this one is stored and published (pacing permitting).
      let next = this.fetchChunk(feed, chunks[0]!, signal, log);
      for (let index = 0; index < chunks.length; index++) {
        const fetched = await next;
        if (index + 1 < chunks.length) {
          next = this.fetchChunk(feed, chunks[index + 1]!, signal, log);
          // Handled at its turn; a failure of this chunk's storage must not leave it unobserved.
          next.catch(() => undefined);
        }
        if (fetched) bars += await this.storeChunk(feed, fetched, present);
        done += 1;
        options.metrics.backfillProgress.set({ instrument: feed.key }, done / chunks.length);
        options.progress.advance(feed.key, done, bars);
      }
      options.progress.finish(feed.key, 'done');
      options.metrics.gapMinutes.set({ instrument: feed.key }, 0);
      options.metrics.gapRepairs.inc({ instrument: feed.key, reason });
    } catch (error) {
      if (chunks.length > 0) options.progress.finish(feed.key, 'interrupted');
      if (error instanceof StoppedError) return;
      if (error instanceof GatewayDisconnectedError) {
        // The next session's repair picks up from here.
        log.warn({ requestsDone: done, requests: chunks.length }, 'gateway lost during the backfill');
        return;
      }
      log.error(
        { err: error, requestsDone: done, requests: chunks.length },
        'gap repair failed; retried at the next check',
      );
    }
  }

  /** Where history ends for this run (exclusive); see `historyEnd`. */
  private historyEnd(feed: InstrumentFeed): number {
    const { clock } = this.options;
    return historyEnd({
      now: clock.now(),
      settleMs: SETTLE_MS,
      firstWholeMinute: feed.assembler.firstWholeMinute,
      lastPartEnd: feed.assembler.lastPartEnd,
      // Live bars arrive every 5 s of gateway time; allow for delivery jitter in wall time as well.
      liveMaxAgeMs: LIVE_MAX_AGE_MS + clock.speed * LIVE_JITTER_WALL_MS,
    });
  }

  /** The missing ranges, and the minutes found present (in this process or in Postgres). */
  private async missingRanges(
    feed: InstrumentFeed,
    from: number,
    to: number,
  ): Promise<{ missing: Interval[]; present: Set<number> }> {
    const { store, wallClock } = this.options;
    // Minutes this process knows first, then the database: a live bar moves from the write queue to
    // the table in between, never out of both.
    const present = feed.knownMinutes(from, to);
    let stored: Interval[];
    try {
      for (const ts of await store.storedBarTimes(feed.key, '1m', from, to)) present.add(ts);
      stored = await store.coverage(feed.key, '1m', from, to);
    } catch (error) {
      this.options.metrics.databaseErrors.inc({ operation: 'gap_query' });
      throw error;
    }
    feed.coverage = mergeIntervals([...feed.coverage, ...stored]);
    const now = wallClock();
    feed.cooldowns = feed.cooldowns.filter((window) => window.until > now && window.end > from);
    feed.refusals = feed.refusals.filter((window) => window.end > from);
    this.options.metrics.abandonedMinutes.set(
      { instrument: feed.key },
      minutesIn(
        mergeIntervals(
          feed.cooldowns
            .filter((window) => window.until === Number.POSITIVE_INFINITY)
            .map((window) => ({ start: Math.max(window.start, from), end: Math.min(window.end, to) }))
            .filter((window) => window.end > window.start),
        ),
      ),
    );
    const missing = findMissingRanges({
      calendar: feed.calendar,
      from,
      to,
      present,
      covered: [...feed.coverage, ...feed.cooldowns],
    });
    return { missing, present };
  }

  /**
   * One chunk's answer, with retries, and the window it covers; undefined when the gateway kept refusing
   * (the window is then left alone for a while). Throws on disconnect or stop.
   */
  private async fetchChunk(
    feed: InstrumentFeed,
    chunk: Chunk,
    signal: AbortSignal,
    log: Logger,
  ): Promise<{ answer: HistoricalAnswer; window: Interval } | undefined> {
    const { options } = this;
    const resolved = feed.resolved!;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new StoppedError();
      if (!options.isReady()) throw new GatewayDisconnectedError(`history of ${feed.key}`);
      let answer: HistoricalAnswer;
      try {
        answer = await options.history.fetch(
          {
            contract: resolved.contract,
            label: feed.key,
            timeZone: resolved.timeZoneId,
            request: {
              endDateTime: chunk.endDateTime,
              duration: chunk.duration,
              barSize: IB_BAR_SIZE['1m'],
              whatToShow: feed.whatToShow,
              useRegularTradingHours: false,
            },
          },
          signal,
        );
      } catch (error) {
        if (error instanceof NoHistoricalDataError) {
          // An answer: the window holds no bar. Covered like any answer, so it is not asked again.
          options.metrics.backfillRequests.inc({ instrument: feed.key, result: 'no_data' });
          return { answer: { bars: [], servedStart: undefined, servedEnd: undefined }, window: chunk };
        }
        if (error instanceof GatewayDisconnectedError || error instanceof StoppedError) {
          options.metrics.backfillRequests.inc({ instrument: feed.key, result: 'disconnected' });
          throw error;
        }
        const refused = error instanceof HistoricalDataError;
        const timedOut = error instanceof GatewayTimeoutError;
        if (!refused && !timedOut) throw error;
        options.metrics.backfillRequests.inc({
          instrument: feed.key,
          result: refused ? 'refused' : 'timeout',
        });
        if (attempt >= options.maxAttempts) {
          // Left alone for a while; a later check asks again, a few times. Never marked as covered: it may
          // hold data.
          const rounds =
            1 +
            Math.max(
              0,
              ...feed.refusals
                .filter((window) => window.start < chunk.end && chunk.start < window.end)
                .map((window) => window.rounds),
            );
          feed.refusals.push({ start: chunk.start, end: chunk.end, rounds });
          const givenUp = rounds >= MAX_REFUSAL_ROUNDS;
          feed.cooldowns.push({
            start: chunk.start,
            end: chunk.end,
            until: givenUp ? Number.POSITIVE_INFINITY : options.wallClock() + options.cooldownMs,
          });
          log.error(
            { err: error, end: chunk.endDateTime, duration: chunk.duration, attempts: attempt, rounds },
            givenUp
              ? 'historical request refused in every round; giving this window up until a restart'
              : 'historical request failed repeatedly; leaving this window for a later check',
          );
          return undefined;
        }
        log.warn(
          { err: error, attempt, retryInMs: options.retryDelayMs },
          'historical request failed; retrying',
        );
        await abortableSleep(options.retryDelayMs, signal);
        continue;
      }
      options.metrics.backfillRequests.inc({ instrument: feed.key, result: 'ok' });
      options.metrics.backfillBars.inc({ instrument: feed.key }, answer.bars.length);
      // Only the part of the chunk the gateway says it served counts as covered: a gateway whose clock is
      // behind ours serves less than asked, and the rest stays missing.
      const window = {
        start: Math.max(chunk.start, answer.servedStart ?? chunk.start),
        end: floorTo(Math.min(chunk.end, answer.servedEnd ?? chunk.end), MINUTE_MS),
      };
      if (window.end <= window.start) return undefined;
      if (chunkMinutes(window) < chunkMinutes(chunk))
        log.debug({ asked: chunk, served: window }, 'the gateway served part of the window');
      return { answer, window };
    }
  }

  /** Stores and publishes one answer; returns the bars stored. Throws when the database write fails. */
  private async storeChunk(
    feed: InstrumentFeed,
    fetched: { answer: HistoricalAnswer; window: Interval },
    present: ReadonlySet<number>,
  ): Promise<number> {
    try {
      return await feed.acceptHistory(fetched.answer.bars, fetched.window, present);
    } catch (error) {
      this.options.metrics.databaseErrors.inc({ operation: 'backfill_write' });
      throw error;
    }
  }
}
