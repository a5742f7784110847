// Shared helpers for the ingestor's integration tests: a simulated gateway, an isolated database and bus
// namespace, the service booted the way main.ts boots it, and independent readers of what the service
// produced (Postgres rows, JetStream messages) and of what the gateway itself says the bars are.
import { EventName, IBApi, type Contract, SecType } from '@stoqey/ib';
import { loadConfig } from '@ibstack/config';
import { Bar, type SystemEvent, SystemEvent as SystemEventSchema, Tick } from '@ibstack/contracts';
import { type GatewaySim, type GatewaySimOptions, startGatewaySim } from '@ibstack/gateway-sim';
import { createRegistry } from '@ibstack/observability';
import {
  createTestBus,
  createTestDatabase,
  eventually,
  silentLogger,
  type TestBus,
  type TestDatabase,
} from '@ibstack/test-kit';

import {
  connectIngestor,
  createIngestorService,
  type IngestorConnections,
  type IngestorService,
  ingestorEnv,
} from '../../src';
import { IB_PACING_LIMITS, PacingLimiter } from '../../src/domain/pacing';

/** Tuesday 24 November 2026, 10:00 New York: forex and US stocks both trade. */
export const TUESDAY_MORNING = '2026-11-24T15:00:00.000Z';

export const MINUTE = 60_000;

export async function startSim(options: GatewaySimOptions = {}): Promise<GatewaySim> {
  return startGatewaySim({
    port: 0,
    seed: 42,
    speed: 60,
    startTime: TUESDAY_MORNING,
    marketHours: 'forex',
    pacing: true,
    logger: silentLogger('gateway-sim'),
    registry: createRegistry('gateway-sim', { defaultMetrics: false }),
    ...options,
  });
}

export interface Stack {
  db: TestDatabase;
  bus: TestBus;
}

export async function createStack(): Promise<Stack> {
  const [db, bus] = await Promise.all([createTestDatabase(), createTestBus()]);
  return { db, bus };
}

export async function destroyStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.bus.destroy().catch(() => undefined);
  await stack.db.drop().catch(() => undefined);
}

/** The environment the service (or `main.ts` in a child process) runs with. */
export function ingestorEnvironment(
  sim: GatewaySim,
  stack: Stack,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    IB_HOST: '127.0.0.1',
    IB_PORT: String(sim.port),
    IB_CLIENT_ID: '20',
    DATABASE_URL: stack.db.url,
    NATS_URL: process.env.NATS_URL || 'nats://127.0.0.1:4222',
    BUS_NAMESPACE: stack.bus.namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    INSTRUMENTS: 'EUR.CAD',
    BACKFILL_DAYS: '0.1',
    BAR_FLUSH_INTERVAL_MS: '100',
    GAP_CHECK_INTERVAL_MS: '1000',
    HISTORY_RETRY_DELAY_MS: '2000',
    ...overrides,
  };
}

export async function bootService(
  sim: GatewaySim,
  stack: Stack,
  overrides: Record<string, string> = {},
): Promise<IngestorService> {
  const config = loadConfig('ingestor', ingestorEnv, ingestorEnvironment(sim, stack, overrides));
  const logger = silentLogger('ingestor');
  const registry = createRegistry('ingestor', { defaultMetrics: false });
  const connections = await connectIngestor(config, { logger, registry });
  const service = createIngestorService(config, { ...connections, logger, registry });
  await service.start();
  return withConnections(service, connections);
}

/** The service, whose `stop()` then closes its Postgres and NATS connections as main.ts does. */
export function withConnections(service: IngestorService, connections: IngestorConnections): IngestorService {
  return Object.create(service, {
    stop: {
      value: async () => {
        await service.stop();
        await connections.close();
      },
    },
  }) as IngestorService;
}

/** A metric's value from the service's registry (0 when the series does not exist yet). */
export async function metricValue(
  service: IngestorService,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = service.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((value) =>
    Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
  );
  return match?.value ?? 0;
}

export interface StoredBar {
  ts: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  source: string;
}

export async function storedBars(
  db: TestDatabase,
  instrument: string,
  timeframe = '1m',
): Promise<StoredBar[]> {
  const rows = await db.db
    .selectFrom('bars')
    .select(['ts', 'open', 'high', 'low', 'close', 'volume', 'source'])
    .where('instrument', '=', instrument)
    .where('timeframe', '=', timeframe)
    .orderBy('ts')
    .execute();
  return rows.map((row) => ({ ...row, ts: row.ts.getTime() }));
}

/** Every message of a subject in the namespace's MD stream, in stream order. */
export async function streamMessages<T>(
  bus: TestBus,
  subject: string,
  parse: (value: unknown) => T,
): Promise<T[]> {
  const stream = bus.bus.namespace.stream(subject.startsWith('sys.') ? 'SYS' : 'MD');
  // An ephemeral consumer with one filter subject (the NATS here is 2.9: no filter_subjects).
  const info = await bus.bus.jsm.consumers.add(stream, {
    filter_subject: bus.bus.namespace.subject(subject),
    ack_policy: 'none',
    deliver_policy: 'all',
    inactive_threshold: 30_000_000_000,
  });
  try {
    const consumer = await bus.bus.js.consumers.get(stream, info.name);
    const pending = info.num_pending;
    const messages: T[] = [];
    while (messages.length < pending) {
      const batch = await consumer.fetch({ max_messages: pending - messages.length, expires: 2_000 });
      let received = 0;
      for await (const message of batch) {
        messages.push(parse(message.json()));
        received += 1;
      }
      if (received === 0) break;
    }
    return messages;
  } finally {
    await bus.bus.jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
}

export const parseBar = (value: unknown) => Bar.parse(value);
export const parseTick = (value: unknown) => Tick.parse(value);
export const parseSystemEvent = (value: unknown): SystemEvent => SystemEventSchema.parse(value);

export interface SimBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export function forexContract(pair: string): Contract {
  const [symbol, currency] = pair.split('.') as [string, string];
  return { symbol, secType: SecType.CASH, currency, exchange: 'IDEALPRO' };
}

export function stockContract(symbol: string): Contract {
  return { symbol, secType: SecType.STK, currency: 'USD', exchange: 'SMART' };
}

let nextClientId = 900;

/**
 * The gateway's own bars for [start, end), asked through a bare `@stoqey/ib` client (not the ingestor's
 * adapter), so a parsing mistake in the ingestor cannot hide in the comparison.
 */
export async function simHistory(
  sim: GatewaySim,
  contract: Contract,
  options: { start: number; end: number; barSize?: string; whatToShow?: string },
): Promise<SimBar[]> {
  const api = new IBApi({ host: '127.0.0.1', port: sim.port });
  let ready = false;
  api.on(EventName.nextValidId, () => (ready = true));
  api.connect((nextClientId += 1));
  try {
    await eventually(() => ready, { timeoutMs: 5_000 });
    const bars: SimBar[] = [];
    const done = new Promise<void>((resolve, reject) => {
      api.on(EventName.historicalData, (_reqId: number, time: string, open, high, low, close, volume) => {
        if (time.startsWith('finished')) return resolve();
        bars.push({ ts: Number(time) * 1000, open, high, low, close, volume });
      });
      api.on(EventName.error, (error: Error, code: number, reqId: number) => {
        if (reqId === 1) reject(new Error(`history refused (${code}): ${error.message}`));
      });
    });
    // One second longer than asked, so the request is never identical to one the ingestor made (the
    // gateway refuses an identical request within 15 s); the extra second holds no bar start we keep.
    const end = new Date(options.end + 1_000).toISOString();
    const endDateTime = `${end.slice(0, 4)}${end.slice(5, 7)}${end.slice(8, 10)}-${end.slice(11, 19)}`;
    api.reqHistoricalData(
      1,
      contract,
      endDateTime,
      `${Math.round((options.end - options.start) / 1000) + 1} S`,
      (options.barSize ?? '1 min') as never,
      (options.whatToShow ?? 'MIDPOINT') as never,
      0,
      2,
      false,
    );
    await done;
    return bars.filter((bar) => bar.ts >= options.start && bar.ts < options.end);
  } finally {
    api.disconnect();
  }
}

// The tests' own history requests keep to IB's pacing too (the simulator enforces it for every client).
const testPacing = new PacingLimiter(IB_PACING_LIMITS, Date.now);

/** `simHistory` over any window, in requests shorter than a day that keep to IB's pacing rules. */
export async function simSeries(
  sim: GatewaySim,
  contract: Contract,
  options: { start: number; end: number; whatToShow?: string },
): Promise<SimBar[]> {
  const bars: SimBar[] = [];
  // Windows counted back from the end: a later check asks for different windows, never an identical one.
  const window = 23 * 3_600_000; // below IB's one-day maximum, with room for simHistory's extra second
  for (let end = options.end; end > options.start; end -= window) {
    const start = Math.max(options.start, end - window);
    const paced = {
      identity: `${JSON.stringify(contract)}:${start}:${end}`,
      contract: JSON.stringify(contract),
    };
    let delay: number;
    while ((delay = testPacing.delayFor(paced)) > 0)
      await new Promise((resolve) => setTimeout(resolve, delay));
    testPacing.record(paced);
    bars.unshift(...(await simHistory(sim, contract, { ...options, start, end })));
  }
  return bars;
}

/** Stored bars written the way the gateway would print them, for an exact comparison. */
export function asNumbers(bars: readonly StoredBar[]): SimBar[] {
  return bars.map((bar) => ({
    ts: bar.ts,
    open: Number(bar.open),
    high: Number(bar.high),
    low: Number(bar.low),
    close: Number(bar.close),
    volume: Number(bar.volume),
  }));
}

/** Forex volume is -1 at IB ("none"); the ingestor stores 0. */
export function normaliseVolume(bars: readonly SimBar[]): SimBar[] {
  return bars.map((bar) => ({ ...bar, volume: Math.max(0, bar.volume) }));
}

/** Minutes in [start, end) missing from a sorted list of bar times. */
export function missingMinutes(times: readonly number[], start: number, end: number): number[] {
  const present = new Set(times);
  const missing: number[] = [];
  for (let ts = start; ts < end; ts += MINUTE) if (!present.has(ts)) missing.push(ts);
  return missing;
}

/** Times that occur more than once. */
export function duplicates(times: readonly number[]): number[] {
  const seen = new Set<number>();
  const repeated = new Set<number>();
  for (const ts of times) (seen.has(ts) ? repeated : seen).add(ts);
  return [...repeated];
}

export interface SeriesCheck {
  /** First and last stored minute. */
  first: number;
  last: number;
  /** Minutes in [first, last] with no stored bar (the window is open market throughout in these tests). */
  missing: number[];
  /** Bar times published more than once on md.bar.<sym>.1m. */
  republished: number[];
  /** Stored bars and the gateway's bars for the same window, as numbers. */
  stored: SimBar[];
  expected: SimBar[];
}

/** Reads the stored 1-minute series and what the gateway says it should be. */
export async function checkSeries(
  sim: GatewaySim,
  stack: Stack,
  key: string,
  contract: Contract,
): Promise<SeriesCheck> {
  const bars = await storedBars(stack.db, key);
  const first = bars[0]!.ts;
  const last = bars[bars.length - 1]!.ts;
  const published = await streamMessages(stack.bus, `md.bar.${key}.1m`, parseBar);
  const expected = await simSeries(sim, contract, { start: first, end: last + MINUTE });
  return {
    first,
    last,
    missing: missingMinutes(
      bars.map((bar) => bar.ts),
      first,
      last + MINUTE,
    ),
    republished: duplicates(published.map((bar) => Date.parse(bar.ts))),
    stored: asNumbers(bars),
    expected: normaliseVolume(expected),
  };
}

/** Waits until the stored series runs without a hole from its start to at least `until`. */
export async function waitForSeriesThrough(
  stack: Stack,
  key: string,
  until: number,
  timeoutMs = 20_000,
): Promise<void> {
  await eventually(
    async () => {
      const times = (await storedBars(stack.db, key)).map((bar) => bar.ts);
      const last = times[times.length - 1] ?? 0;
      return last >= until && missingMinutes(times, times[0]!, last + MINUTE).length === 0;
    },
    { timeoutMs, intervalMs: 200 },
  );
}
