import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, connect as netConnect, createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type ContractDetails, EventName, IBApi, SecType } from '@stoqey/ib';
import { Bus } from '@ibstack/bus';
import { createRegistry } from '@ibstack/observability';
import { startGatewaySim } from '@ibstack/gateway-sim';
import {
  createTestDatabase,
  silentLogger,
  spawnTs,
  type SpawnedProcess,
  type TestDatabase,
  testEnvironment,
  uniqueSuffix,
} from '@ibstack/test-kit';
import { from as copyFrom } from 'pg-copy-streams';

import { type BarRow, PgBarStore } from '../../services/ingestor/src/adapters/pg-bars';
import { findMissingRanges } from '../../services/ingestor/src/domain/gaps';
import { planChunks } from '../../services/ingestor/src/domain/backfill-plan';
import { parseTradingHours } from '../../services/ingestor/src/domain/trading-hours';
import type { Figure, Suite } from '../lib/report';
import { nowMs } from '../lib/stats';

const MAIN = join(__dirname, '..', '..', 'services', 'ingestor', 'src', 'main.ts');
const SIM_MAIN = join(__dirname, '..', '..', 'services', 'gateway-sim', 'src', 'main.ts');
/** Tuesday 24 November 2026, 10:00 New York: every market open. */
const TUESDAY_MORNING = '2026-11-24T15:00:00.000Z';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LogLine {
  time: string;
  msg: string;
  [key: string]: unknown;
}

function parseLines(lines: readonly string[]): LogLine[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

async function waitForLog(child: SpawnedProcess, predicate: (line: LogLine) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = parseLines(child.lines).filter(predicate);
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`ingestor log line not seen within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Sum of a Prometheus metric over the series whose labels contain `labels`. */
async function scrape(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (
    await fetch(`${url}/metrics`).catch((error: Error) => {
      throw new Error(
        `scrape ${url}: ${String((error.cause as Error | undefined)?.message ?? error.message)}`,
      );
    })
  ).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** CPU time (user + system) a process has used, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the command name).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size (VmHWM) of a process, in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

function simOptions(overrides: Parameters<typeof startGatewaySim>[0] = {}) {
  return {
    port: 0,
    seed: 42,
    startTime: TUESDAY_MORNING,
    marketHours: 'forex' as const,
    pacing: true,
    logger: silentLogger('gateway-sim'),
    registry: createRegistry('gateway-sim', { defaultMetrics: false }),
    ...overrides,
  };
}

function ingestorEnv(
  sim: { port: number },
  db: TestDatabase,
  namespace: string,
  overrides: Record<string, string>,
) {
  return {
    IB_PORT: String(sim.port),
    DATABASE_URL: db.url,
    NATS_URL: testEnvironment().natsUrl,
    BUS_NAMESPACE: namespace,
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

function syntheticBars(count: number, offset: number): BarRow[] {
  return Array.from({ length: count }, (_, i) => ({
    instrument: 'EURCAD',
    timeframe: '1m',
    ts: Date.UTC(2026, 0, 1) + (offset + i) * 60_000,
    open: '1.48231',
    high: '1.48301',
    low: '1.48201',
    close: '1.48251',
    volume: '0',
    source: 'backfill',
  }));
}

/** COPY vs multi-row INSERT through the store's own upsert, for a live-sized and a backfill-sized batch. */
async function measureBarWrites(
  db: TestDatabase,
  scale: number,
  log: (message: string) => void,
): Promise<Figure[]> {
  const store = new PgBarStore(db, 'auto');
  const figures: Figure[] = [];
  let offset = 0;
  for (const size of [10, 1_440]) {
    const batches = Math.max(5, Math.round((size === 10 ? 2_000 : 60) * scale));
    const rate = async (method: 'insert' | 'copy') => {
      const started = nowMs();
      for (let i = 0; i < batches; i++) {
        await store.writeBars(syntheticBars(size, offset), [], method);
        offset += size;
      }
      return (batches * size) / ((nowMs() - started) / 1000);
    };
    log(`bar writes: ${batches} batches of ${size} rows, COPY and INSERT alternating`);
    const copy: number[] = [];
    const insert: number[] = [];
    for (let round = 0; round < 2; round++) {
      insert.push(await rate('insert'));
      copy.push(await rate('copy'));
    }
    figures.push({
      name: `ingestor.db.upsert_batch_${size}.copy`,
      value: Math.max(...copy),
      unit: 'rows/s',
      baselineName: 'multi-row INSERT',
      baseline: Math.max(...insert),
      better: 'higher',
    });
  }
  return figures;
}

/**
 * The load run: one ingestor process, six pairs, the simulator at full speed. First a day of backfill per
 * pair (bars from gateway into Postgres), then live quotes (ticks from gateway to JetStream); the
 * process's peak RSS covers both.
 */
async function measureLoad(
  scale: number,
  log: (message: string) => void,
): Promise<{ figures: Figure[]; peakRss: number }> {
  const pairs = ['EUR.USD', 'GBP.USD', 'USD.JPY', 'USD.CAD', 'AUD.USD', 'USD.CHF'];
  // The simulator in a process of its own, so its price computation does not share an event loop with
  // the bench's reading of the ingestor's log.
  const sim = await spawnSim({
    GATEWAY_SIM_SPEED: '3600',
    GATEWAY_SIM_TICK_INTERVAL_MS: '10',
    GATEWAY_SIM_QUOTE_UPDATES_PER_TICK: '1000',
  });
  const db = await createTestDatabase();
  const namespace = `bench${uniqueSuffix()}`;
  const rawNamespace = `bench${uniqueSuffix()}`;
  const registry = createRegistry('bench', { defaultMetrics: false });
  const bus = await Bus.connect({
    url: testEnvironment().natsUrl,
    name: 'bench',
    namespace,
    logger: silentLogger(),
    registry,
  });
  const rawBus = await Bus.connect({
    url: testEnvironment().natsUrl,
    name: 'bench-raw',
    namespace: rawNamespace,
    logger: silentLogger(),
    registry,
  });
  let child: SpawnedProcess | undefined;
  try {
    await rawBus.ensureStreams();
    log(`load run: ${pairs.length} pairs, 1 day of backfill each, then live quotes at speed 3600`);
    child = spawnTs(
      MAIN,
      [],
      ingestorEnv(sim, db, namespace, {
        INSTRUMENTS: pairs.join(','),
        BACKFILL_DAYS: '1',
        GAP_CHECK_INTERVAL_MS: '600000',
      }),
    );
    const [startedLine] = await waitForLog(child, (line) => line.msg === 'ingestor started', 30_000);
    const url = String(startedLine!.http);
    // The start-up backfill of each pair (a day of bars); smaller repairs after it do not count.
    const deadline = Date.now() + 300_000;
    const finished = () =>
      new Set(
        parseLines(child!.lines)
          .filter((line) => line.msg === 'backfill finished' && Number(line.bars) >= 1_000)
          .map((line) => String(line.instrument)),
      );
    while (finished().size < pairs.length) {
      if (Date.now() > deadline) throw new Error('the load run did not finish its backfill within 5 minutes');
      await sleep(50);
    }
    // From the first historical request to the last pair's backfill stored, by the ingestor's own log.
    const lines = parseLines(child.lines);
    const firstRequest = Math.min(
      ...lines.filter((line) => line.msg === 'backfilling').map((line) => Date.parse(line.time)),
    );
    const big = lines.filter((line) => line.msg === 'backfill finished' && Number(line.bars) >= 1_000);
    const backfillSeconds = (Math.max(...big.map((line) => Date.parse(line.time))) - firstRequest) / 1000;
    const barsStored = big.reduce((sum, line) => sum + Number(line.bars), 0);
    const barsPerSecond = barsStored / backfillSeconds;
    log(
      `  ${barsStored} backfilled bars in ${backfillSeconds.toFixed(1)} s (first request to the last pair's backfill stored)`,
    );

    // Baseline: COPY of the same rows into a plain table, no upsert.
    const rows = await db.db.selectFrom('bars').selectAll().where('source', '=', 'backfill').execute();
    const client = await db.pool.connect();
    let copySeconds: number;
    try {
      await client.query('create temporary table raw_bars (like bars)');
      const text =
        rows
          .map((row) =>
            [
              row.instrument,
              row.timeframe,
              row.ts.toISOString(),
              row.open,
              row.high,
              row.low,
              row.close,
              row.volume,
              row.source,
              row.updated_at.toISOString(),
            ].join('\t'),
          )
          .join('\n') + '\n';
      const copyStarted = nowMs();
      await pipeline(Readable.from([text]), client.query(copyFrom('copy raw_bars from stdin')));
      copySeconds = (nowMs() - copyStarted) / 1000;
    } finally {
      client.release();
    }

    if (child.child.exitCode !== null || child.child.signalCode !== null)
      throw new Error(
        `the ingestor exited (${child.child.exitCode ?? child.child.signalCode}): ${child.lines.slice(-5).join('\n')}`,
      );
    // Live quotes: ticks acknowledged by JetStream over a fixed window. Each side of the window is one
    // scrape of each process, timed on its own, so a slow scrape does not stretch the window.
    const windowMs = Math.max(3_000, 10_000 * scale);
    const sample = async () => {
      const acknowledged = await scrape(url, 'bus_published_total', { topic: 'tick' });
      const at = nowMs();
      const cpu = [cpuSeconds(child!.child.pid!), cpuSeconds(sim.process.child.pid!)];
      const simAt = nowMs();
      const quotes =
        (await scrape(sim.httpUrl, 'gateway_sim_messages_sent_total', { message: 'tickPrice' })) +
        (await scrape(sim.httpUrl, 'gateway_sim_messages_sent_total', { message: 'tickSize' }));
      return { acknowledged, at, cpu, quotes, simAt };
    };
    const before = await sample();
    await sleep(windowMs);
    const after = await sample();
    const tickSeconds = (after.at - before.at) / 1000;
    const ticksPerSecond = (after.acknowledged - before.acknowledged) / tickSeconds;
    const shed = await scrape(url, 'md_publish_errors_total', { topic: 'tick' });
    const busy = (i: number) => ((after.cpu[i]! - before.cpu[i]!) / tickSeconds) * 100;
    log(
      `  ${Math.round(after.acknowledged - before.acknowledged)} ticks acknowledged in ${tickSeconds.toFixed(1)} s ` +
        `(${shed} tick publishes failed or shed); the simulator sent ` +
        `${Math.round((after.quotes - before.quotes) / ((after.simAt - before.simAt) / 1000))} price and size messages/s; ` +
        `CPU: ingestor ${busy(0).toFixed(0)} %, simulator ${busy(1).toFixed(0)} % of a core`,
    );
    const peakRss = peakRssMb(child.child.pid!);
    const heapUsed = await scrape(url, 'nodejs_heap_size_used_bytes');
    log(
      `  ingestor heap in use ${(heapUsed / 1e6).toFixed(0)} MB (before collection), peak RSS ${peakRss.toFixed(0)} MB`,
    );

    // Baseline: the same tick messages, published raw to JetStream (no validation) with the same window.
    const info = await bus.jsm.consumers.add(bus.namespace.stream('MD'), {
      filter_subject: bus.namespace.subject('md.tick.>'),
      ack_policy: 'none',
      deliver_policy: 'all',
    });
    const consumer = await bus.js.consumers.get(bus.namespace.stream('MD'), info.name);
    const payloads: Array<{ subject: string; data: Uint8Array; id: string }> = [];
    const wanted = Math.min(info.num_pending, 50_000);
    while (payloads.length < wanted) {
      const batch = await consumer.fetch({
        max_messages: Math.min(5_000, wanted - payloads.length),
        expires: 2_000,
      });
      let received = 0;
      for await (const message of batch) {
        payloads.push({
          subject: rawBus.namespace.subject(bus.namespace.baseSubject(message.subject)),
          data: message.data,
          id: message.headers?.get('Nats-Msg-Id') ?? String(message.seq),
        });
        received += 1;
      }
      if (received === 0) break;
    }
    // The load run is over: the baseline gets the machine to itself, as the ingestor had it with the load.
    await child.kill('SIGKILL');
    await sim.process.kill('SIGKILL');
    const nc = await connect({ servers: testEnvironment().natsUrl });
    const js = jetstream(nc);
    const inFlight = new Set<Promise<unknown>>();
    const rawStarted = nowMs();
    for (const payload of payloads) {
      const sent = js.publish(payload.subject, payload.data, { msgID: payload.id });
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
      if (inFlight.size >= 10_000) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const rawPerSecond = payloads.length / ((nowMs() - rawStarted) / 1000);
    await nc.close();

    return {
      peakRss,
      figures: [
        {
          name: 'ingestor.ticks_to_jetstream',
          value: ticksPerSecond,
          unit: 'ticks/s',
          baselineName: 'raw JetStream publish, same messages',
          baseline: rawPerSecond,
          better: 'higher',
        },
        {
          name: 'ingestor.backfill_bars_to_postgres',
          value: barsPerSecond,
          unit: 'bars/s',
          baselineName: 'raw COPY, same rows',
          baseline: rows.length / copySeconds,
          better: 'higher',
        },
      ],
    };
  } finally {
    await child?.kill('SIGKILL');
    await bus.destroyNamespace().catch(() => undefined);
    await rawBus.destroyNamespace().catch(() => undefined);
    await bus.close();
    await rawBus.close();
    await sim.process.kill('SIGKILL');
    await db.drop();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The simulator as its own process (services/gateway-sim/src/main.ts). */
async function spawnSim(
  env: Record<string, string>,
): Promise<{ port: number; httpUrl: string; process: SpawnedProcess }> {
  const port = await freePort();
  const httpPort = await freePort();
  const child = spawnTs(SIM_MAIN, [], {
    GATEWAY_SIM_PORT: String(port),
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'warn',
    GATEWAY_SIM_START_TIME: TUESDAY_MORNING,
    GATEWAY_SIM_MARKET_HOURS: 'forex',
    ...env,
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return { port, httpUrl: `http://127.0.0.1:${httpPort}`, process: child };
    if (Date.now() > deadline) throw new Error('the simulator process did not listen within 20 s');
    await sleep(100);
  }
}

/** The same historical requests the ingestor makes for five days of EUR.CAD, through bare @stoqey/ib. */
async function bareBackfillSeconds(
  log: (message: string) => void,
): Promise<{ seconds: number; requests: number }> {
  const sim = await startGatewaySim(simOptions({ speed: 1 }));
  const api = new IBApi({ host: '127.0.0.1', port: sim.port });
  try {
    let ready = false;
    api.on(EventName.nextValidId, () => (ready = true));
    api.connect(77);
    while (!ready) await sleep(10);
    const contract = { symbol: 'EUR', secType: SecType.CASH, currency: 'CAD', exchange: 'IDEALPRO' };
    const hours = await new Promise<{ tradingHours: string; timeZoneId: string }>((resolve) => {
      api.once(EventName.contractDetails, (_reqId: number, details: ContractDetails) =>
        resolve({ tradingHours: details.tradingHours ?? '', timeZoneId: details.timeZoneId ?? 'UTC' }),
      );
      api.reqContractDetails(1, contract);
    });
    const now = Math.floor(sim.now() / 60_000) * 60_000;
    const missing = findMissingRanges({
      calendar: parseTradingHours(hours.tradingHours, hours.timeZoneId),
      from: now - 5 * 86_400_000,
      to: now,
      present: new Set(),
      covered: [],
    });
    const chunks = planChunks(missing);
    log(`bare @stoqey/ib: ${chunks.length} requests for the same five days`);
    let reqId = 10;
    const started = nowMs();
    for (const chunk of chunks) {
      reqId += 1;
      const id = reqId;
      await new Promise<void>((resolve, reject) => {
        const done = (failure?: Error) => {
          api.off(EventName.historicalData, onData);
          api.off(EventName.error, onError);
          if (failure) reject(failure);
          else resolve();
        };
        const onData = (answerId: number, time: string) => {
          if (answerId === id && time.startsWith('finished')) done();
        };
        // IB answers a window without data (a weekend) with 162 "no data": an empty answer, as the ingestor reads it.
        const onError = (error: Error, code: number, errorId: number) => {
          if (errorId !== id) return;
          done(
            code === 162 && /returned no data/i.test(error.message)
              ? undefined
              : new Error(`${code}: ${error.message}`),
          );
        };
        api.on(EventName.historicalData, onData);
        api.on(EventName.error, onError);
        api.reqHistoricalData(
          id,
          contract,
          chunk.endDateTime,
          chunk.duration,
          '1 min' as never,
          'MIDPOINT',
          0,
          2,
          false,
        );
      });
    }
    return { seconds: (nowMs() - started) / 1000, requests: chunks.length };
  } finally {
    api.disconnect();
    await sim.close();
  }
}

/** Five days of 1-minute EUR.CAD through the ingestor process, timed by its own log (first request to last stored). */
async function ingestorBackfillSeconds(
  log: (message: string) => void,
): Promise<{ seconds: number; requests: number }> {
  const sim = await startGatewaySim(simOptions({ speed: 1 }));
  const db = await createTestDatabase();
  const namespace = `bench${uniqueSuffix()}`;
  const child = spawnTs(
    MAIN,
    [],
    ingestorEnv(sim, db, namespace, { INSTRUMENTS: 'EUR.CAD', BACKFILL_DAYS: '5' }),
  );
  try {
    const [started] = await waitForLog(child, (line) => line.msg === 'backfilling', 60_000);
    const [finished] = await waitForLog(child, (line) => line.msg === 'backfill finished', 300_000);
    const seconds = (Date.parse(finished!.time) - Date.parse(started!.time)) / 1000;
    log(`ingestor: ${String(started!.requests)} requests, ${String(finished!.bars)} bars stored`);
    return { seconds, requests: Number(started!.requests) };
  } finally {
    await child.kill('SIGKILL');
    const cleanup = await Bus.connect({
      url: testEnvironment().natsUrl,
      name: 'bench-cleanup',
      namespace,
      logger: silentLogger(),
      registry: createRegistry('bench', { defaultMetrics: false }),
    });
    await cleanup.destroyNamespace().catch(() => undefined);
    await cleanup.close();
    await sim.close();
    await db.drop();
  }
}

/** Peak RSS of a bare Node process that loads @stoqey/ib and holds a connection, nothing else. */
async function bareRssMb(): Promise<number> {
  const sim = await startGatewaySim(simOptions({ speed: 1 }));
  const script = String.raw`
    const { IBApi, EventName } = require('@stoqey/ib');
    const api = new IBApi({ host: '127.0.0.1', port: ${sim.port} });
    api.on(EventName.nextValidId, () => setTimeout(() => {
      const status = require('fs').readFileSync('/proc/self/status', 'utf8');
      console.log(/VmHWM:\s+(\d+)/.exec(status)[1]);
      api.disconnect();
      process.exit(0);
    }, 3000));
    api.connect(78);
  `;
  try {
    // Asynchronous: the simulator answering it runs in this process.
    const child = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise((resolve) => child.once('exit', resolve));
    const kb = Number(stdout.trim());
    if (!(kb > 0)) throw new Error(`the bare @stoqey/ib process failed: ${stderr.slice(-500)}`);
    return kb / 1024;
  } finally {
    await sim.close();
  }
}

/**
 * The ingestor end to end against the simulated gateway, beside baselines measured in the same run: raw
 * JetStream publishing of the same ticks, a raw COPY of the same bars, the same historical requests
 * through bare @stoqey/ib, and a bare @stoqey/ib process's memory.
 */
export const ingestorSuite: Suite = {
  name: 'ingestor',
  description:
    'gateway-sim → ingestor → JetStream / Postgres vs raw JetStream, raw COPY, bare @stoqey/ib; COPY vs INSERT',
  async run({ scale, log }) {
    const figures: Figure[] = [];
    const db = await createTestDatabase();
    try {
      figures.push(...(await measureBarWrites(db, scale, log)));
    } finally {
      await db.drop();
    }
    const load = await measureLoad(scale, log);
    figures.push(...load.figures);

    const ingestor = await ingestorBackfillSeconds(log);
    const bare = await bareBackfillSeconds(log);
    figures.push({
      name: `ingestor.backfill_5d_1m (${ingestor.requests} requests)`,
      value: ingestor.seconds,
      unit: 's',
      baselineName: `bare @stoqey/ib, ${bare.requests} requests, no storage`,
      baseline: bare.seconds,
      better: 'lower',
    });

    figures.push({
      name: 'ingestor.peak_rss_under_load',
      value: load.peakRss,
      unit: 'MB',
      baselineName: 'bare node + @stoqey/ib connected',
      baseline: await bareRssMb(),
      better: 'lower',
    });
    return figures;
  },
};
