/**
 * The ingestor service. `createIngestorService` builds every part; `start()` starts them and `stop()` stops
 * them. Wiring of the parts:
 *
 *   start: pacing state from Postgres, HTTP health, timers, then the gateway session (kept alive by IbConnection)
 *   session ready: learn the gateway's clock → resolve instruments (contract-lookup.ts, `instruments` row)
 *                  → subscribe quotes and 5-second bars → gap repair (the start-up backfill is the first)
 *   quotes → ticks → JetStream (and `ticks` for STORE_TICKS instruments)
 *   5-second bars → whole minutes → JetStream + Postgres (batched) → larger timeframes
 *   1100/1101/1102, a hole in the live series, a timer → gap repair
 *   a timer → staleness (staleness-watch.ts)
 *   stop: stop asking, end the session, write the pending batch; the caller then closes NATS and Postgres
 */
import type { Bus, SessionCommandAnswer } from '@ibstack/bus';
import {
  DAY_MS,
  type Instrument,
  instrumentKey,
  nowIso,
  parseInstrumentSpec,
  type Timeframe,
  TIMEFRAME_SECONDS,
} from '@ibstack/contracts';
import type { DatabaseHandle } from '@ibstack/db';
import { IbConnection } from '@ibstack/ib';
import { type HealthServer, type Logger, type Registry, startHealthServer } from '@ibstack/observability';

import { IbMarketData } from './adapters/ib-market-data';
import { MarketDataBus } from './adapters/nats-bus';
import { type BarRow, COPY_MIN_ROWS, PgBarStore, type TickRow } from './adapters/pg-bars';
import { Announcer } from './announcer';
import { BatchWriter } from './batch-writer';
import type { IngestorConfig } from './config';
import { ContractLookup } from './contract-lookup';
import { GatewayClock } from './domain/gateway-clock';
import { IB_PACING_LIMITS, PacingLimiter, pacingHorizonMs, type PacingRecord } from './domain/pacing';
import { UnknownInstrumentError } from './errors';
import { InstrumentFeed } from './feed';
import { GapRepair, type RepairReason } from './gap-repair';
import { ingestorMetrics, type IngestorMetrics } from './metrics';
import { PacedHistory } from './paced-history';
import { serveIngestorSessionCommands } from './session-control';
import { StalenessWatch } from './staleness-watch';
import { logProgress, type ProgressReporter } from './progress';

export interface IngestorServiceDeps {
  /** Postgres, connected (`connectIngestor`); closed by the caller after `stop()`. */
  database: DatabaseHandle;
  /** NATS, connected, streams ensured (`connectIngestor`); closed by the caller after `stop()`. */
  bus: Bus;
  logger: Logger;
  registry: Registry;
  /** Start the HTTP health/metrics server on HTTP_PORT. @default true */
  http?: boolean;
  /** How backfill progress is shown. @default log lines */
  progress?: ProgressReporter;
  /** Our wall clock (epoch ms), for pacing and staleness. @default Date.now */
  clock?: () => number;
}

export interface InstrumentStatus {
  resolved: boolean;
  subscribed: boolean;
  marketOpen: boolean;
  stale: boolean;
  repairing: boolean;
}

export interface IngestorService {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly metrics: IngestorMetrics;
  readonly registry: Registry;
  readonly healthUrl: string | undefined;
  /** The gateway's clock as the ingestor knows it (epoch ms). */
  gatewayNow(): number;
  /** Per configured instrument key. */
  status(): Record<string, InstrumentStatus>;
  /** Resolves when no gap repair is running and pending bars are written (for tests and shutdown). */
  settle(): Promise<void>;
  /** Whether gateway, NATS and Postgres are all connected (what /readyz answers). */
  isReady(): Promise<boolean>;
}

/** A refused history window is left alone for this many gap checks. */
const COOLDOWN_CHECKS = 10;

export function createIngestorService(config: IngestorConfig, deps: IngestorServiceDeps): IngestorService {
  const log = deps.logger;
  const registry = deps.registry;
  const metrics = ingestorMetrics(registry);
  const wallClock = deps.clock ?? Date.now;
  const progress = deps.progress ?? logProgress(log);
  const clock = new GatewayClock({ wallClock });
  const higherTimeframes = config.TIMEFRAMES.filter((timeframe) => timeframe !== '1m');
  const largestTimeframeMs = Math.max(
    ...config.TIMEFRAMES.map((tf: Timeframe) => TIMEFRAME_SECONDS[tf] * 1000),
  );
  const lookbackMs = config.BACKFILL_DAYS * DAY_MS;
  const startedAt = nowIso(wallClock);

  let health: HealthServer | undefined;
  let feeds: InstrumentFeed[] = [];
  let sessionCommands: { stop(): void } | undefined;
  let gapTimer: NodeJS.Timeout | undefined;
  const retryTimers: NodeJS.Timeout[] = [];
  let sessionWork: Promise<void> = Promise.resolve();
  let started = false;
  let stopping = false;
  const byQuotes = new Map<number, InstrumentFeed>();
  const byBars = new Map<number, InstrumentFeed>();

  // Adapters.
  const store = new PgBarStore(deps.database, config.BAR_WRITE_METHOD);
  const bus = new MarketDataBus(deps.bus, { logger: log, metrics });
  const connection = new IbConnection({
    host: config.IB_HOST,
    port: config.IB_PORT,
    clientId: config.IB_CLIENT_ID,
    logger: log,
    registry,
  });
  const marketData = new IbMarketData(connection, {
    requestTimeoutMs: 15_000,
    historyTimeoutMs: config.HISTORY_TIMEOUT_MS,
  });
  const announcer = new Announcer({
    bus,
    wallClock,
    gateway: { host: config.IB_HOST, port: config.IB_PORT, clientId: config.IB_CLIENT_ID },
    serverVersion: () => connection.api.serverVersion,
  });

  // Writes to Postgres, batched.
  const barWriter = new BatchWriter<BarRow>({
    name: 'bars',
    batchSize: config.BAR_BATCH_SIZE,
    flushIntervalMs: config.BAR_FLUSH_INTERVAL_MS,
    limit: config.BAR_QUEUE_LIMIT,
    logger: log,
    write: async (rows) => {
      const method =
        config.BAR_WRITE_METHOD === 'auto'
          ? rows.length >= COPY_MIN_ROWS
            ? 'copy'
            : 'insert'
          : config.BAR_WRITE_METHOD;
      const end = metrics.databaseWriteSeconds.startTimer({ method });
      await store.writeBars(rows);
      end();
    },
    onError: () => metrics.databaseErrors.inc({ operation: 'write_bars' }),
    onDropped: (row) => {
      metrics.barsDropped.inc({ instrument: row.instrument });
      if (row.timeframe === '1m') feeds.find((feed) => feed.key === row.instrument)?.forget(row.ts);
    },
    onLength: (length) => metrics.barQueueLength.set(length),
  });
  const tickWriter =
    config.STORE_TICKS.length > 0
      ? new BatchWriter<TickRow>({
          name: 'ticks',
          batchSize: 1_000,
          flushIntervalMs: config.BAR_FLUSH_INTERVAL_MS,
          limit: config.BAR_QUEUE_LIMIT,
          logger: log,
          write: (rows) => store.writeTicks(rows),
          onError: () => metrics.databaseErrors.inc({ operation: 'write_ticks' }),
        })
      : undefined;

  // Historical requests, paced by IB's rules.
  const pacingLimits = {
    maxRequests: config.PACING_MAX_REQUESTS,
    windowMs: config.PACING_WINDOW_MS,
    identicalWindowMs: config.PACING_IDENTICAL_WINDOW_MS,
    sameContractMaxRequests: config.PACING_SAME_CONTRACT_MAX_REQUESTS,
    sameContractWindowMs: config.PACING_SAME_CONTRACT_WINDOW_MS,
    marginMs: config.PACING_MARGIN_MS,
  };
  // IB counts requests for ten minutes whatever our configuration says, and the next run may be
  // configured differently: keep at least that long.
  const keepRequestsMs = Math.max(pacingHorizonMs(pacingLimits), pacingHorizonMs(IB_PACING_LIMITS));
  const limiter = new PacingLimiter(pacingLimits, wallClock);
  const pacingChanged = () => metrics.pacingRecentRequests.set(limiter.recentRequests);
  // Each record is written as soon as it is queued (batches form only while Postgres is failing), off
  // the request's path. A crash can lose the records whose insert had not committed yet, a few ms'
  // worth; the next run then undercounts by those.
  const requestLog = new BatchWriter<PacingRecord>({
    name: 'history_requests',
    batchSize: 1,
    flushIntervalMs: 1_000,
    limit: 10_000,
    logger: log,
    write: (records) => store.writeHistoryRequests(records, wallClock() - keepRequestsMs),
    onError: () => metrics.databaseErrors.inc({ operation: 'write_history_requests' }),
  });
  const history = new PacedHistory({
    fetch: (contract, label, request, timeZone) =>
      marketData.historicalBars(contract, label, request, timeZone),
    limiter,
    wallClock,
    canSend: () => connection.isReady(),
    onSent: (record) => {
      requestLog.enqueue(record);
      pacingChanged();
    },
    onWait: (ms) => {
      pacingChanged();
      metrics.pacingWaits.inc();
      metrics.pacingWaitSeconds.inc(ms / 1000);
    },
  });
  const repair = new GapRepair({
    clock,
    wallClock,
    history,
    store,
    metrics,
    logger: log,
    progress,
    lookbackMs,
    chunkSeconds: config.BACKFILL_CHUNK_SECONDS,
    maxAttempts: config.HISTORY_MAX_ATTEMPTS,
    retryDelayMs: config.HISTORY_RETRY_DELAY_MS,
    cooldownMs: COOLDOWN_CHECKS * config.GAP_CHECK_INTERVAL_MS,
    isReady: () => connection.isReady(),
  });

  // One feed per instrument.
  const storeTicks = new Set(config.STORE_TICKS);
  const makeFeed = (instrument: Instrument) =>
    new InstrumentFeed(
      instrument,
      {
        clock,
        wallClock,
        marketData,
        bus,
        store,
        barWriter,
        tickWriter,
        metrics,
        logger: log,
        higherTimeframes,
        stockWhatToShow: config.STOCK_WHAT_TO_SHOW,
        staleAfterMs: config.STALE_AFTER_MS,
        retentionMs: lookbackMs + largestTimeframeMs + DAY_MS,
        onLiveSeam: (feed) => repair.request(feed, 'live_seam'),
      },
      storeTicks.has(instrumentKey(instrument)),
    );
  feeds = config.INSTRUMENTS.map(makeFeed);

  const lookup = new ContractLookup({
    marketData,
    store,
    announcer,
    metrics,
    logger: log,
    startedAt,
    isActive: () => !stopping && connection.isReady(),
    onResolvedLater: (feed) => {
      feed.subscribe();
      repair.request(feed, 'start');
      indexSubscriptions();
    },
  });
  const staleness = new StalenessWatch({
    staleAfterMs: config.STALE_AFTER_MS,
    wallClock,
    feeds: () => feeds,
    announcer,
    metrics,
    logger: log,
  });

  function indexSubscriptions(): void {
    byQuotes.clear();
    byBars.clear();
    for (const feed of feeds) {
      if (feed.quotesRequestId !== undefined) byQuotes.set(feed.quotesRequestId, feed);
      if (feed.barsRequestId !== undefined) byBars.set(feed.barsRequestId, feed);
    }
  }

  /** An instrument added at run time: IB's answer decides, and an unknown contract is refused with it. */
  async function addInstrument(spec: string): Promise<SessionCommandAnswer> {
    let instrument: Instrument;
    try {
      instrument = parseInstrumentSpec(spec);
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
    const key = instrumentKey(instrument);
    if (feeds.some((feed) => feed.key === key))
      return { ok: true, message: `${key} is already ingested`, instrument: key };
    if (!connection.isReady())
      return { ok: false, message: 'no gateway session now; try again once it is connected' };
    const feed = makeFeed(instrument);
    try {
      await lookup.resolveNow(feed);
    } catch (error) {
      if (error instanceof UnknownInstrumentError)
        return { ok: false, code: error.ibCode ?? 200, message: error.message, instrument: key };
      throw error;
    }
    feeds.push(feed);
    feed.subscribe();
    repair.request(feed, 'start');
    indexSubscriptions();
    return { ok: true, message: `${feed.label} subscribed to quotes and bars; backfilling`, instrument: key };
  }

  function removeInstrument(key: string): SessionCommandAnswer {
    const feed = feeds.find((candidate) => candidate.key === key);
    if (!feed) return { ok: false, message: `${key} is not ingested`, instrument: key };
    feed.unsubscribe();
    feeds = feeds.filter((candidate) => candidate !== feed);
    indexSubscriptions();
    return { ok: true, message: `${feed.label} unsubscribed`, instrument: key };
  }

  /** Collects a few clock answers so the first decisions already use the gateway's time. */
  async function calibrateClock(): Promise<void> {
    clock.reset();
    for (let i = 0; i < 3 && !stopping && connection.isReady(); i++) {
      marketData.requestCurrentTime();
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const deadline = wallClock() + 2_000;
    while (!clock.calibrated && wallClock() < deadline && !stopping && connection.isReady())
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  async function onSessionReady(reconnect: boolean): Promise<void> {
    await calibrateClock();
    if (stopping || !connection.isReady()) return;
    const now = clock.now();
    await Promise.all(
      feeds
        .filter((feed) => !feed.resolved || lookup.isDue(feed, now) || reconnect)
        .map((feed) => lookup.resolve(feed)),
    );
    if (stopping || !connection.isReady()) return;
    for (const feed of feeds) {
      if (!feed.resolved) continue;
      feed.subscribe();
      repair.request(feed, reconnect ? 'reconnect' : 'start');
    }
    indexSubscriptions();
  }

  /**
   * Asks for refused 5-second bars again after a growing pause. Until they flow, the old seam no longer
   * counts (see `historyEnd`) and the periodic gap check fills the minutes from history.
   */
  function retryBars(feed: InstrumentFeed, refusedRequestId: number): void {
    const delay = feed.nextBarsRetryDelayMs();
    const timer = setTimeout(() => {
      retryTimers.splice(retryTimers.indexOf(timer), 1);
      // A new session or a later retry has made its own subscription since.
      if (stopping || !connection.isReady() || feed.barsRequestId !== refusedRequestId) return;
      feed.resubscribeBars();
      indexSubscriptions();
    }, delay);
    timer.unref();
    retryTimers.push(timer);
  }

  function requestRepairs(reason: RepairReason): void {
    for (const feed of feeds) if (feed.resolved) repair.request(feed, reason);
  }

  function periodicCheck(): void {
    if (!connection.isReady()) return;
    const now = clock.now();
    for (const feed of feeds) {
      if (lookup.isDue(feed, now)) {
        sessionWork = sessionWork.then(() => lookup.resolve(feed)).catch(() => undefined);
      }
      if (!feed.resolved && !feed.reportedUnknown)
        sessionWork = sessionWork.then(() => lookup.resolve(feed)).catch(() => undefined);
    }
    requestRepairs('periodic');
  }

  // What the gateway says, routed to the parts.
  marketData.on('currentTime', (seconds, receivedAt) => clock.observe(seconds, receivedAt));
  marketData.on('price', (reqId, field, value) => byQuotes.get(reqId)?.onPrice(field, value));
  marketData.on('size', (reqId, field, value) => byQuotes.get(reqId)?.onSize(field, value));
  marketData.on('realTimeBar', (reqId, bar) => byBars.get(reqId)?.onRealTimeBar(bar));
  marketData.on('subscriptionError', (reqId, code, message) => {
    const feed = byQuotes.get(reqId) ?? byBars.get(reqId);
    log.error({ instrument: feed?.key, code, reqId }, `market data subscription refused: ${message}`);
    // Another login holds the market-data lines: the gateway supervisor reads this from sys.gateway.status.
    if (code === 10197) announcer.gatewayStatus('connected', code, message);
    const barsFeed = byBars.get(reqId);
    if (barsFeed) retryBars(barsFeed, reqId);
  });
  connection.on('state', (state) => {
    announcer.gatewayStatus(state === 'ready' ? 'connected' : state);
    if (state !== 'ready') {
      for (const feed of feeds) feed.sessionEnded();
      indexSubscriptions();
    }
  });
  connection.on('ready', ({ reconnect }) => {
    sessionWork = sessionWork
      .then(() => onSessionReady(reconnect))
      .catch((error: unknown) => log.error({ err: error }, 'session start failed'));
  });
  connection.on('brokerConnectivity', ({ up, dataLost, code }) => {
    announcer.gatewayStatus(up ? 'connected' : 'disconnected', code);
    if (!up) return;
    if (dataLost) {
      // 1101: IB dropped the market-data subscriptions; they must be made again.
      for (const feed of feeds) if (feed.resolved) feed.subscribe();
      indexSubscriptions();
    }
    requestRepairs('connectivity');
  });

  const service: IngestorService = {
    metrics,
    registry,
    get healthUrl() {
      return health?.url;
    },
    gatewayNow: () => clock.now(),
    status() {
      return Object.fromEntries(
        feeds.map((feed) => [
          feed.key,
          {
            resolved: feed.resolved !== undefined,
            subscribed: feed.barsRequestId !== undefined,
            marketOpen: feed.resolved ? feed.isMarketOpen() : false,
            stale: feed.staleness.isStale,
            repairing: repair.isRunning(feed.key),
          },
        ]),
      );
    },
    async settle() {
      await sessionWork;
      await repair.idle();
      await Promise.all(feeds.map((feed) => feed.idle()));
      await barWriter.flush();
      await requestLog.flush();
    },
    async isReady() {
      return Boolean(connection.isReady() && bus.isConnected() && (await store.ping()));
    },

    async start() {
      started = true;
      stopping = false;
      // The requests an earlier run sent are still counted by IB: the limiter starts from them. A failure
      // here stops the start (like Postgres being down), since starting from nothing risks error 162.
      const pastRequests = await store.historyRequestsSince(wallClock() - keepRequestsMs);
      limiter.restore(pastRequests);
      metrics.pacingRestoredRequests.set(limiter.recentRequests);
      pacingChanged();
      if (pastRequests.length > 0)
        log.info(
          { requests: limiter.recentRequests, since: new Date(pastRequests[0]!.at).toISOString() },
          'pacing starts from the historical requests sent before the restart',
        );
      if (deps.http ?? true) {
        health = await startHealthServer({
          port: config.HTTP_PORT,
          registry,
          checks: [
            { name: 'gateway', check: () => connection.isReady() },
            { name: 'nats', check: () => bus.isConnected() },
            { name: 'postgres', check: () => store.ping() },
          ],
        });
      }
      staleness.start();
      gapTimer = setInterval(periodicCheck, config.GAP_CHECK_INTERVAL_MS);
      gapTimer.unref();
      log.info(
        {
          instruments: feeds.map((feed) => feed.label),
          timeframes: config.TIMEFRAMES,
          backfillDays: config.BACKFILL_DAYS,
          gateway: `${config.IB_HOST}:${config.IB_PORT}`,
          clientId: config.IB_CLIENT_ID,
          http: health?.url,
        },
        'ingestor started',
      );
      sessionCommands = serveIngestorSessionCommands(bus.bus, {
        connection,
        addInstrument,
        removeInstrument,
        log,
      });
      connection.start();
    },

    async stop() {
      if (stopping) return;
      stopping = true;
      if (!started) return;
      sessionCommands?.stop();
      lookup.stop();
      staleness.stop();
      if (gapTimer) clearInterval(gapTimer);
      for (const timer of retryTimers.splice(0)) clearTimeout(timer);
      // Abort waits first; ending the session then fails the request in flight, so nothing hangs.
      repair.abort();
      for (const feed of feeds) feed.unsubscribe();
      await connection.stop();
      await repair.idle();
      await sessionWork.catch(() => undefined);
      await Promise.all(feeds.map((feed) => feed.idle()));
      // The bar batch still waiting is written before the process goes.
      await barWriter.stop();
      await tickWriter?.stop();
      await requestLog.stop();
      progress.close();
      await bus.stop().catch((error: unknown) => log.warn({ err: error }, 'closing NATS failed'));
      await health?.close();
      log.info('ingestor stopped');
    },
  };
  return service;
}
