/**
 * Tick-to-order: from the simulated gateway sending the 5-second bar that completes a minute (the bar that
 * triggers a strategy) to the gateway receiving the resulting placeOrder, through the real stack
 * (ingestor → strategy → execution, each its own process, started by the same runner as `npm start`).
 * Beside two floors measured in the same run: a bare relay doing the same hops (gateway socket → NATS →
 * NATS → gateway socket) with no logic, and the same relay plus the one durable Postgres write per order
 * that exactly-once requires. Also the resident memory of each service at steady state, beside a bare Node
 * process with tsx.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EventName, IBApi, OrderAction, OrderType, SecType, TimeInForce, WhatToShow } from '@stoqey/ib';
import { type BarSent, type OrderReceived } from '@ibstack/gateway-sim';
import { stackEnv, runStack } from '@ibstack/stack';
import { loadConfig } from '@ibstack/config';
import { connect } from '@nats-io/transport-node';
import {
  createTestBus,
  createTestDatabase,
  freePort,
  freePortRange,
  spawnTs,
  testEnvironment,
} from '@ibstack/test-kit';

import type { Figure, Suite } from '../lib/report';
import { percentile } from '../lib/stats';

const ROOT = join(__dirname, '..', '..');
const SPEED = 120;
const EURCAD = { symbol: 'EUR', secType: SecType.CASH, exchange: 'IDEALPRO', currency: 'CAD' };

const SLEEVES = `# Benchmark sleeve: a 1-over-2 bar crossover signals on about every other minute bar.
instruments: [EUR.CAD]
riskDefaults: { maxOrdersPerMinute: 100000 }
sleeves:
  - name: bench
    strategy: ma-crossover
    instruments: [EUR.CAD]
    timeframe: 1m
    capitalUsd: 20000
    parameters: { fast: 1, slow: 2, average: sma, allowShort: true }
    sizing: { quantityStep: 1000 }
    risk: { maxPositionUsd: 1000000, maxOrderNotionalUsd: 1000000, maxOrdersPerMinute: 100000 }
`;

function rssMegabytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function timeline(simUrl: string): Promise<{ bars: BarSent[]; orders: OrderReceived[] }> {
  return (await (await fetch(`${simUrl}/admin/timeline`)).json()) as {
    bars: BarSent[];
    orders: OrderReceived[];
  };
}

/** The first triggers pay for JIT compilation and first-use setup in every process; steady state starts after. */
const WARM_UP = 3;

function latencies(
  line: { bars: BarSent[]; orders: OrderReceived[] },
  triggerOf: (orderRef: string) => number | undefined,
): number[] {
  const sent = new Map(
    line.bars.filter((bar) => bar.instrument === 'EURCAD').map((bar) => [bar.barTime, bar.sentAt]),
  );
  const result: number[] = [];
  for (const order of line.orders) {
    const barTime = triggerOf(order.orderRef);
    const at = barTime === undefined ? undefined : sent.get(barTime);
    if (at !== undefined) result.push(order.receivedAt - at);
  }
  return result.slice(WARM_UP);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const tickToOrderSuite: Suite = {
  name: 'tick-to-order',
  description:
    'sim bar → ingestor → strategy → execution → sim placeOrder vs a bare NATS relay (± one durable write)',
  async run({ scale, log }) {
    const seconds = Math.max(20, Math.round(60 * scale));
    const database = await createTestDatabase();
    const testBus = await createTestBus();
    const stateDir = mkdtempSync(join(tmpdir(), 'ibstack-bench-'));
    const sleevesFile = join(stateDir, 'bench.yaml');
    writeFileSync(sleevesFile, SLEEVES);
    const figures: Figure[] = [];
    try {
      // --- the stack ---
      const httpBase = await freePortRange(4);
      const simUrl = `http://127.0.0.1:${httpBase}`;
      const config = loadConfig('bench', stackEnv, {
        DATABASE_URL: database.url,
        NATS_URL: testEnvironment().natsUrl,
        BUS_NAMESPACE: testBus.namespace,
        IB_PORT: String(await freePort()),
        STACK_HTTP_PORT_BASE: String(httpBase),
        STACK_STATE_DIR: stateDir,
        SIM_SPEED: String(SPEED),
        SLEEVES_FILE: sleevesFile,
        BACKFILL_DAYS: '0.02',
        LOG_LEVEL: 'warn',
      });
      log(`stack: ${seconds} s of trading at ${SPEED}x`);
      const stack = await runStack(config, {
        write: () => undefined,
        env: {
          ...process.env,
          RISK_LIMITS_JSON: JSON.stringify({
            maxOrdersPerMinute: 100000,
            maxOrderNotionalUsd: 1e9,
            maxPositionUsd: 1e12,
          }),
        },
      });
      let rss: Record<string, number> = {};
      let stackLine: { bars: BarSent[]; orders: OrderReceived[] } = { bars: [], orders: [] };
      try {
        await sleep((seconds * 1000) / 2);
        rss = Object.fromEntries(
          stack.services.map((service) => [service.spec.name, rssMegabytes(service.pid!)]),
        );
        await sleep((seconds * 1000) / 2);
      } finally {
        stackLine = await timeline(simUrl).catch(() => stackLine);
        await stack.stop();
      }
      const intents = await database.db.selectFrom('order_intents').select(['intent_id', 'bar_ts']).execute();
      const barOfIntent = new Map(intents.map((row) => [row.intent_id, row.bar_ts.getTime() / 1000 + 55]));
      const ours = latencies(stackLine, (orderRef) => barOfIntent.get(orderRef));
      log(`stack: ${ours.length} triggers measured (the first ${WARM_UP} are warm-up and not counted)`);

      // --- floors: a bare relay over the same hops, against a sim of its own in its own process ---
      const relay = async (durableWrite: boolean): Promise<number[]> => {
        const ibPort = await freePort();
        const simHttp = await freePort();
        const sim = spawnTs(join(ROOT, 'services', 'gateway-sim', 'src', 'main.ts'), [], {
          GATEWAY_SIM_PORT: String(ibPort),
          HTTP_PORT: String(simHttp),
          GATEWAY_SIM_SPEED: String(SPEED),
          GATEWAY_SIM_MARKET_HOURS: 'always-open',
          GATEWAY_SIM_INITIAL_CASH: '1000000000',
          LOG_LEVEL: 'warn',
        });
        const nc = await connect({ servers: testEnvironment().natsUrl });
        const api = new IBApi({ host: '127.0.0.1', port: ibPort, maxReqPerSec: 40 });
        const subjectA = `${testBus.namespace}.relay.a`;
        const subjectB = `${testBus.namespace}.relay.b`;
        try {
          for (let attempt = 0; attempt < 100; attempt++) {
            const ready = await fetch(`http://127.0.0.1:${simHttp}/readyz`).then(
              (r) => r.ok,
              () => false,
            );
            if (ready) break;
            await sleep(100);
          }
          let nextId = 0;
          const connected = new Promise<void>((resolve) =>
            api.once(EventName.nextValidId, (id: number) => ((nextId = id), resolve())),
          );
          api.connect(55);
          await connected;
          nc.subscribe(subjectA, { callback: (_error, message) => nc.publish(subjectB, message.data) });
          nc.subscribe(subjectB, {
            callback: (_error, message) => {
              const { time } = JSON.parse(new TextDecoder().decode(message.data)) as { time: number };
              const orderId = nextId++;
              const place = () => {
                api.placeOrder(orderId, EURCAD, {
                  action: orderId % 2 === 0 ? OrderAction.BUY : OrderAction.SELL,
                  orderType: OrderType.MKT,
                  totalQuantity: 1_000,
                  tif: TimeInForce.DAY,
                  orderRef: `relay-${time}`,
                  transmit: true,
                });
              };
              if (!durableWrite) {
                place();
                return;
              }
              void database.pool
                .query('insert into bench_relay_orders (order_id, bar_time) values ($1, $2)', [orderId, time])
                .then(place);
            },
          });
          await nc.flush();
          api.on(EventName.realtimeBar, (_reqId: number, time: number) => {
            if (time % 60 === 55) nc.publish(subjectA, JSON.stringify({ time }));
          });
          api.reqRealTimeBars(1, EURCAD, 5, WhatToShow.MIDPOINT, false);
          await sleep(seconds * 500);
          const line = await timeline(`http://127.0.0.1:${simHttp}`);
          return latencies(line, (orderRef) =>
            orderRef.startsWith('relay-') ? Number(orderRef.slice(6)) : undefined,
          );
        } finally {
          api.disconnect();
          await nc.close();
          await sim.kill('SIGTERM');
        }
      };
      await database.pool.query(
        'create table bench_relay_orders (order_id integer primary key, bar_time bigint not null)',
      );
      log('floor: bare relay');
      const bare = await relay(false);
      log('floor: bare relay + one durable write');
      const withWrite = await relay(true);

      for (const p of [50, 99]) {
        figures.push(
          {
            name: `tick_to_order.p${p}`,
            value: percentile(ours, p),
            unit: 'ms',
            baselineName: 'bare relay',
            baseline: percentile(bare, p),
            better: 'lower',
          },
          {
            name: `tick_to_order.p${p}`,
            value: percentile(ours, p),
            unit: 'ms',
            baselineName: 'relay + 1 durable write',
            baseline: percentile(withWrite, p),
            better: 'lower',
          },
        );
      }
      figures.push({
        name: 'tick_to_order.triggers',
        value: ours.length,
        unit: 'orders',
        baselineName: 'bare relay orders',
        baseline: bare.length,
        better: 'higher',
      });

      // --- memory: each service at steady state beside a bare node process with tsx ---
      const bareNode = spawn(process.execPath, ['--import', 'tsx', '-e', 'setInterval(() => {}, 1000)'], {
        stdio: 'ignore',
      });
      await sleep(3_000);
      const bareRss = rssMegabytes(bareNode.pid!);
      bareNode.kill('SIGKILL');
      for (const [name, megabytes] of Object.entries(rss)) {
        figures.push({
          name: `rss.${name}`,
          value: megabytes,
          unit: 'MB',
          baselineName: 'bare node + tsx',
          baseline: bareRss,
          better: 'lower',
        });
      }
      return figures;
    } finally {
      await testBus.destroy();
      await database.drop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  },
};
