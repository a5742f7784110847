/**
 * dashboard-api (issue 14), each figure beside a bare floor measured in the same run:
 * - `GET /api/positions` under load (autocannon, 10 connections, keep-alive): p50, p99 and requests/s of the
 *   real service (its own process, with helmet, CORS, rate limits, metrics and the token check) beside a
 *   bare express handler running the same query through the same ReadStore (bench/baselines);
 * - WebSocket fan-out: 1,000 authenticated clients subscribed to `quotes:EURCAD`, 5 ticks a second, the lag
 *   from publishing a tick on NATS to each client receiving it (p50, p99 over every client and tick after
 *   the first five), beside a bare `ws` server that broadcasts the same NATS messages to 1,000 plain clients;
 * - dashboard-api's RSS at steady state (after the load, 1,000 clients connected) beside the bare ws
 *   server's with its 1,000 clients.
 * Both servers run under tsx, as `npm start` runs them. The clients and the publisher share the bench
 * process, the same for ours and the floor. Rate limits are raised out of the way (they still count every
 * request): the load comes from one address and one user.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { topics } from '@ibstack/contracts';
import {
  createTestBus,
  createTestDatabase,
  freePort,
  makeTick,
  spawnTs,
  type SpawnedProcess,
  testEnvironment,
} from '@ibstack/test-kit';
import autocannon from 'autocannon';
import WebSocket from 'ws';

import { hashPassword } from '../../services/dashboard-api/src/auth/passwords';
import { UserStore } from '../../services/dashboard-api/src/adapters/pg-users';
import type { Figure, Suite } from '../lib/report';
import { nowMs, percentile } from '../lib/stats';

const ROOT = join(__dirname, '..', '..');
const DASHBOARD_MAIN = join(ROOT, 'services', 'dashboard-api', 'src', 'main.ts');
const BARE_POSITIONS = join(ROOT, 'bench', 'baselines', 'bare-positions-server.ts');
const BARE_BROADCAST = join(ROOT, 'bench', 'baselines', 'bare-ws-broadcast.ts');
const PASSWORD = 'bench-password-long-enough';
const CLIENTS = 1_000;
const INSTRUMENTS = ['EURCAD', 'EURUSD', 'GBPUSD', 'USDJPY', 'AUDUSD', 'USDCHF', 'USDCAD', 'NZDUSD'];
/** The first ticks pay for JIT compilation on both sides; they are delivered but not counted. */
const WARM_UP_TICKS = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssMegabytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function untilAnswers(url: string, child: SpawnedProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${child.lines.slice(-20).join('\n')}`);
    await sleep(200);
  }
}

/** Eight open positions, each instrument with a day of 1-minute bars (the query reads the latest close). */
async function seed(database: Awaited<ReturnType<typeof createTestDatabase>>): Promise<void> {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  await database.db
    .insertInto('positions')
    .values(
      INSTRUMENTS.map((instrument, index) => ({
        account: 'DU1234567',
        instrument,
        quantity: String((index % 2 === 0 ? 1 : -1) * (index + 1) * 10_000),
        average_cost: (1.1 + index / 10).toFixed(5),
        realized_pnl: String(index * 12.5),
        cost_basis: '0',
      })),
    )
    .execute();
  for (const instrument of INSTRUMENTS) {
    const rows = Array.from({ length: 1_440 }, (_, minute) => {
      const price = (1.2 + Math.sin(minute / 30) / 100).toFixed(5);
      return {
        instrument,
        timeframe: '1m',
        ts: new Date(now - (1_440 - minute) * 60_000),
        open: price,
        high: price,
        low: price,
        close: price,
        volume: '0',
        source: 'bench',
      };
    });
    await database.db.insertInto('bars').values(rows).execute();
  }
}

interface Load {
  p50: number;
  p99: number;
  rps: number;
}

async function load(url: string, seconds: number, headers: Record<string, string>): Promise<Load> {
  const result = await autocannon({ url, connections: 10, duration: seconds, headers });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average };
}

interface FanOut {
  lags: number[];
  /** Client-tick pairs that never arrived. */
  missing: number;
}

/**
 * Opens `CLIENTS` sockets (in batches), readies each with `prepare`, publishes `ticks` ticks on NATS at
 * `perSecond`, and collects every client's lag per tick. Each tick carries its sequence number in bidSize.
 */
async function fanOut(
  url: string,
  prepare: (socket: WebSocket, frames: AsyncFrames) => Promise<void>,
  publish: (sequence: number) => Promise<unknown>,
  ticks: number,
  perSecond: number,
  log: (message: string) => void,
): Promise<{ result: FanOut; sockets: WebSocket[] }> {
  const sentAt = new Map<number, number>();
  const lags: number[] = [];
  let received = 0;
  const sockets: WebSocket[] = [];
  const open = async (): Promise<WebSocket> => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const frames = new AsyncFrames(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await prepare(socket, frames);
    frames.stop();
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as { type: string; payload?: { bidSize?: string } };
      if (frame.type !== 'event' || frame.payload?.bidSize === undefined) return;
      const sequence = Number(frame.payload.bidSize);
      const at = sentAt.get(sequence);
      if (at === undefined) return;
      received++;
      if (sequence > WARM_UP_TICKS) lags.push(nowMs() - at);
    });
    return socket;
  };
  for (let batch = 0; batch < CLIENTS; batch += 50)
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, CLIENTS - batch) }, open))));
  log(`  ${sockets.length} clients connected and subscribed`);
  await sleep(1_000);
  const interval = 1_000 / perSecond;
  const start = nowMs();
  for (let sequence = 1; sequence <= ticks; sequence++) {
    const due = start + sequence * interval;
    const wait = due - nowMs();
    if (wait > 0) await sleep(wait);
    sentAt.set(sequence, nowMs());
    await publish(sequence);
  }
  const expected = ticks * CLIENTS;
  const deadline = Date.now() + 30_000;
  while (received < expected && Date.now() < deadline) await sleep(100);
  return { result: { lags, missing: expected - received }, sockets };
}

/** Frames of one socket, awaited one by one while it is being readied. */
class AsyncFrames {
  private readonly queue: Array<{ type: string }> = [];
  private waiter: (() => void) | undefined;

  constructor(socket: WebSocket) {
    const onMessage = (data: Buffer) => {
      this.queue.push(JSON.parse(data.toString('utf8')) as { type: string });
      this.waiter?.();
    };
    socket.on('message', onMessage);
    this.stop = () => socket.off('message', onMessage);
  }

  readonly stop: () => void;

  async until(type: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.queue.findIndex((frame) => frame.type === type);
      if (index >= 0) {
        this.queue.splice(0, index + 1);
        return;
      }
      const errorFrame = this.queue.find((frame) => frame.type === 'error');
      if (errorFrame) throw new Error(`socket answered ${JSON.stringify(errorFrame)}`);
      if (Date.now() > deadline) throw new Error(`no ${type} frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
  }
}

async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  for (const socket of sockets) socket.terminate();
  await sleep(500);
}

export const dashboardApiSuite: Suite = {
  name: 'dashboard-api',
  description:
    'GET /api/positions under load vs a bare express handler; WebSocket fan-out to 1,000 clients vs bare ws; RSS',
  async run({ scale, log }) {
    const seconds = Math.max(5, Math.round(15 * scale));
    // 5 ticks/s to 1,000 clients is 5,000 frames/s, which the one bench process receiving them all keeps
    // up with; at 20/s the clients' own queue became the lag being measured.
    const ticks = Math.max(30, Math.round(100 * scale));
    const perSecond = 5;
    const database = await createTestDatabase();
    const testBus = await createTestBus();
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-bench-dashboard-'));
    const children: SpawnedProcess[] = [];
    const figures: Figure[] = [];
    try {
      await seed(database);
      await new UserStore(database.db).add('bench', await hashPassword(PASSWORD), 'viewer');
      const secretFile = join(dir, 'jwt-secret');
      writeFileSync(secretFile, 'bench-jwt-secret-that-is-long-enough-0123456789', { mode: 0o600 });

      const dashboardPort = await freePort();
      const dashboard = spawnTs(DASHBOARD_MAIN, [], {
        DATABASE_URL: database.url,
        NATS_URL: testEnvironment().natsUrl,
        BUS_NAMESPACE: testBus.namespace,
        HTTP_PORT: String(dashboardPort),
        HTTP_HOST: '127.0.0.1',
        JWT_SECRET_FILE: secretFile,
        COOKIE_SECURE: 'false',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '100000000',
        USER_RATE_LIMIT_PER_MINUTE: '100000000',
        // A token that outlives the run: the clients authenticate once.
        JWT_TTL_SECONDS: '3600',
      });
      children.push(dashboard);
      const barePort = await freePort();
      const bare = spawnTs(BARE_POSITIONS, [], { DATABASE_URL: database.url, HTTP_PORT: String(barePort) });
      children.push(bare);
      const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
      const bareUrl = `http://127.0.0.1:${barePort}`;
      await untilAnswers(`${dashboardUrl}/readyz`, dashboard);
      await untilAnswers(`${bareUrl}/healthz`, bare);
      const login = await fetch(`${dashboardUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'bench', password: PASSWORD }),
      });
      const { token } = (await login.json()) as { token: string };
      const auth = { authorization: `Bearer ${token}` };

      // The same JSON from both, or the comparison means nothing.
      const ours = await (await fetch(`${dashboardUrl}/api/positions`, { headers: auth })).text();
      const theirs = await (await fetch(`${bareUrl}/api/positions`)).text();
      if (ours !== theirs) throw new Error(`the two answers differ:\n${ours}\n${theirs}`);
      log(
        `positions: ${ours.length} bytes of JSON, ${INSTRUMENTS.length} positions; ${seconds} s of load each`,
      );

      await load(`${dashboardUrl}/api/positions`, 2, auth);
      await load(`${bareUrl}/api/positions`, 2, {});
      const ourLoad = await load(`${dashboardUrl}/api/positions`, seconds, auth);
      const bareLoad = await load(`${bareUrl}/api/positions`, seconds, {});
      log(`  ours p50 ${ourLoad.p50} ms p99 ${ourLoad.p99} ms ${ourLoad.rps.toFixed(0)} req/s`);
      log(`  bare p50 ${bareLoad.p50} ms p99 ${bareLoad.p99} ms ${bareLoad.rps.toFixed(0)} req/s`);
      figures.push(
        {
          name: 'dashboard-api GET /api/positions req/s',
          value: ourLoad.rps,
          unit: 'req/s',
          baselineName: 'bare express, same query',
          baseline: bareLoad.rps,
          better: 'higher',
        },
        {
          name: 'dashboard-api GET /api/positions p50',
          value: ourLoad.p50,
          unit: 'ms',
          baselineName: 'bare express, same query',
          baseline: bareLoad.p50,
          better: 'lower',
        },
        {
          name: 'dashboard-api GET /api/positions p99',
          value: ourLoad.p99,
          unit: 'ms',
          baselineName: 'bare express, same query',
          baseline: bareLoad.p99,
          better: 'lower',
        },
      );
      await bare.kill('SIGTERM');

      // --- WebSocket fan-out ---
      const publish = (sequence: number) =>
        testBus.bus.publish(
          topics.tick,
          makeTick({
            ts: new Date(Date.now() + sequence).toISOString(),
            receivedAt: new Date().toISOString(),
            bid: (1.4 + sequence / 1e5).toFixed(5),
            ask: (1.4001 + sequence / 1e5).toFixed(5),
            bidSize: String(sequence),
          }),
        );
      log(`fan-out: ${CLIENTS} clients, ${ticks} ticks at ${perSecond}/s`);
      const ourRun = await fanOut(
        `ws://127.0.0.1:${dashboardPort}/ws`,
        async (socket, frames) => {
          socket.send(JSON.stringify({ type: 'authenticate', payload: { token } }));
          await frames.until('authenticated');
          socket.send(JSON.stringify({ type: 'subscribe', payload: { channels: ['quotes:EURCAD'] } }));
          await frames.until('subscribed');
        },
        publish,
        ticks,
        perSecond,
        log,
      );
      await sleep(2_000);
      const dashboardRss = rssMegabytes(dashboard.child.pid!);
      await closeAll(ourRun.sockets);

      const broadcastPort = await freePort();
      const broadcast = spawnTs(BARE_BROADCAST, [], {
        NATS_URL: testEnvironment().natsUrl,
        SUBJECT: testBus.bus.namespace.subject(topics.tick.filter),
        HTTP_PORT: String(broadcastPort),
      });
      children.push(broadcast);
      for (let attempt = 0; ; attempt++) {
        const up = await new Promise<boolean>((resolve) => {
          const probe = new WebSocket(`ws://127.0.0.1:${broadcastPort}`);
          probe.once('open', () => (probe.terminate(), resolve(true)));
          probe.once('error', () => resolve(false));
        });
        if (up) break;
        if (attempt > 300)
          throw new Error(`the bare ws server did not start:\n${broadcast.lines.join('\n')}`);
        await sleep(200);
      }
      const bareRun = await fanOut(
        `ws://127.0.0.1:${broadcastPort}`,
        () => Promise.resolve(),
        publish,
        ticks,
        perSecond,
        log,
      );
      await sleep(2_000);
      const broadcastRss = rssMegabytes(broadcast.child.pid!);
      await closeAll(bareRun.sockets);
      for (const [who, run] of [
        ['ours', ourRun.result],
        ['bare', bareRun.result],
      ] as const)
        log(
          `  ${who}: ${run.lags.length} deliveries, ${run.missing} missing, p50 ${percentile(run.lags, 50).toFixed(1)} ms, p99 ${percentile(run.lags, 99).toFixed(1)} ms`,
        );
      if (ourRun.result.missing > 0) throw new Error(`${ourRun.result.missing} deliveries never arrived`);
      figures.push(
        {
          name: `dashboard-api WS tick lag p50, ${CLIENTS} clients`,
          value: percentile(ourRun.result.lags, 50),
          unit: 'ms',
          baselineName: 'bare ws broadcast',
          baseline: percentile(bareRun.result.lags, 50),
          better: 'lower',
        },
        {
          name: `dashboard-api WS tick lag p99, ${CLIENTS} clients`,
          value: percentile(ourRun.result.lags, 99),
          unit: 'ms',
          baselineName: 'bare ws broadcast',
          baseline: percentile(bareRun.result.lags, 99),
          better: 'lower',
        },
        {
          name: `dashboard-api RSS, steady, ${CLIENTS} WS clients`,
          value: dashboardRss,
          unit: 'MB',
          baselineName: `bare ws server, ${CLIENTS} clients`,
          baseline: broadcastRss,
          better: 'lower',
        },
      );
      return figures;
    } finally {
      await Promise.all(children.map((child) => child.kill('SIGTERM')));
      await testBus.destroy();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
