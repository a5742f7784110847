import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { EventName, IBApi, OrderAction, OrderType, SecType } from '@stoqey/ib';
import { Encoder } from '@stoqey/ib/dist/core/io/encoder';
import { spawnTs } from '@ibstack/test-kit';

import { BUILT_IN_INSTRUMENTS } from '../../services/gateway-sim/src/market/instruments';
import { encodeFrame } from '../../services/gateway-sim/src/protocol/framing';
import * as response from '../../services/gateway-sim/src/protocol/responses';
import type { SimExecution, SimOrder } from '../../services/gateway-sim/src/trading/types';
import type { Figure, Suite } from '../lib/report';
import { nowMs, percentile } from '../lib/stats';

const EUR_USD = { symbol: 'EUR', secType: SecType.CASH, currency: 'USD', exchange: 'IDEALPRO' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bytes a placeOrder takes on the wire, as @stoqey/ib encodes it at server version 176. */
function placeOrderFrame(): Buffer {
  let frame: Buffer = Buffer.alloc(0);
  const encoder = new Encoder({
    serverVersion: 176,
    sendMsg: (...tokens: unknown[]) => {
      const flat = tokens
        .flat<unknown[], 20>(20)
        .map((value) => (value === true ? 1 : value === false ? 0 : value));
      frame = encodeFrame(flat.join('\0').split('\0'));
    },
    emitError: () => undefined,
  });
  encoder.placeOrder(1, EUR_USD, {
    action: OrderAction.BUY,
    orderType: OrderType.MKT,
    totalQuantity: 10_000,
    transmit: true,
  });
  return frame;
}

/** What the simulator answers to a filled market order: openOrder, orderStatus, execDetails, openOrder, orderStatus, commissionReport. */
function fillReplyBytes(): Buffer {
  const instrument = BUILT_IN_INSTRUMENTS.find((candidate) => candidate.key === 'EURUSD')!;
  const order: SimOrder = {
    orderId: 1,
    permId: 1_012_345_678,
    clientId: 1,
    account: 'DU1234567',
    orderRef: '',
    action: 'BUY',
    totalQuantity: 10_000,
    orderType: 'MKT',
    lmtPrice: undefined,
    auxPrice: undefined,
    tif: 'DAY',
    outsideRth: false,
    transmit: true,
    parentId: 0,
    status: 'Submitted',
    filled: 0,
    remaining: 10_000,
    avgFillPrice: 0,
    lastFillPrice: 0,
    instrument: 'EURUSD',
    conId: instrument.conId,
    placedAt: 0,
    updatedAt: 0,
  };
  const filled: SimOrder = {
    ...order,
    status: 'Filled',
    filled: 10_000,
    remaining: 0,
    avgFillPrice: 1.08515,
    lastFillPrice: 1.08515,
  };
  const execution: SimExecution = {
    execId: '00001a2b.6a3c2f10.01.01',
    orderId: 1,
    permId: order.permId,
    clientId: 1,
    account: 'DU1234567',
    orderRef: '',
    instrument: 'EURUSD',
    conId: instrument.conId,
    side: 'BOT',
    shares: 10_000,
    price: 1.08515,
    time: 0,
    cumQty: 10_000,
    avgPrice: 1.08515,
    commission: 2,
    commissionCurrency: 'USD',
    realizedPnl: undefined,
    exchange: 'IDEALPRO',
  };
  return Buffer.concat(
    [
      response.openOrder(176, order, instrument),
      response.orderStatus(order),
      response.executionDetails(176, -1, execution, instrument, '20260303-15:00:00'),
      response.openOrder(176, filled, instrument),
      response.orderStatus(filled),
      response.commissionReport(execution),
    ].map((fields) => encodeFrame(fields)),
  );
}

/** A bare `net` server in its own process: streams tick-sized frames ('S') or answers each frame with the fill bytes ('E'). */
const RAW_SERVER = `
const net = require('node:net');
const tick = Buffer.from(process.env.TICK_HEX, 'hex');
const reply = Buffer.from(process.env.REPLY_HEX, 'hex');
const batch = Buffer.concat(Array(256).fill(tick));
const server = net.createServer({ noDelay: true }, (socket) => {
  let mode;
  let pending = Buffer.alloc(0);
  const pump = () => { while (!socket.destroyed && socket.write(batch)); if (!socket.destroyed) socket.once('drain', pump); };
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    if (!mode) { mode = chunk[0] === 83 ? 'stream' : 'echo'; chunk = chunk.subarray(1); if (mode === 'stream') return pump(); }
    if (mode !== 'echo') return;
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (pending.length < 4 + length) break;
      pending = pending.subarray(4 + length);
      socket.write(reply);
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
`;

async function startRawServer(tick: Buffer, reply: Buffer): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', RAW_SERVER], {
    env: { ...process.env, TICK_HEX: tick.toString('hex'), REPLY_HEX: reply.toString('hex') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );
  return { port: (JSON.parse(line) as { port: number }).port, child };
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Frames per second received by `clients` raw sockets from the streaming server. */
async function rawStreamRate(port: number, clients: number, windowMs: number): Promise<number> {
  let frames = 0;
  let counting = false;
  const sockets = await Promise.all(Array.from({ length: clients }, () => openSocket(port)));
  for (const socket of sockets) {
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      while (pending.length - offset >= 4) {
        const length = pending.readUInt32BE(offset);
        if (pending.length - offset < 4 + length) break;
        offset += 4 + length;
        if (counting) frames += 1;
      }
      pending = pending.subarray(offset);
    });
    socket.write('S');
  }
  await sleep(300);
  counting = true;
  const start = nowMs();
  await sleep(windowMs);
  counting = false;
  const rate = frames / ((nowMs() - start) / 1000);
  for (const socket of sockets) socket.destroy();
  return rate;
}

/** Round trips: one placeOrder-sized frame out, the fill reply's bytes back. */
async function rawRoundTrips(
  port: number,
  request: Buffer,
  replyLength: number,
  count: number,
): Promise<number[]> {
  const socket = await openSocket(port);
  socket.write('E');
  let received = 0;
  let done: () => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received >= replyLength) {
      received -= replyLength;
      done();
    }
  });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const arrived = new Promise<void>((resolve) => (done = resolve));
    const sent = nowMs();
    socket.write(request);
    await arrived;
    samples.push(nowMs() - sent);
  }
  socket.destroy();
  return samples;
}

async function connectedClient(port: number, clientId: number, maxReqPerSec?: number): Promise<IBApi> {
  const api = new IBApi({ host: '127.0.0.1', port, maxReqPerSec });
  api.on(EventName.error, () => undefined);
  const ready = new Promise<void>((resolve) => api.once(EventName.nextValidId, () => resolve()));
  api.connect(clientId);
  await ready;
  return api;
}

/** Tick messages per second that `clients` @stoqey/ib clients receive, each subscribed to EUR.USD. */
async function simTickRate(
  port: number,
  clients: number,
  windowMs: number,
  firstClientId: number,
): Promise<number> {
  const apis = await Promise.all(
    Array.from({ length: clients }, (_, i) => connectedClient(port, firstClientId + i)),
  );
  let ticks = 0;
  let counting = false;
  for (const [index, api] of apis.entries()) {
    // `received` fires once per frame; only tick frames flow during the window.
    api.on(EventName.received, () => {
      if (counting) ticks += 1;
    });
    api.reqMktData(index + 1, EUR_USD, '', false, false);
  }
  await sleep(500);
  counting = true;
  const start = nowMs();
  await sleep(windowMs);
  counting = false;
  const rate = ticks / ((nowMs() - start) / 1000);
  for (const api of apis) api.disconnect();
  await sleep(200);
  return rate;
}

/**
 * placeOrder (MKT) → orderStatus Filled as @stoqey/ib sees it, one order at a time. The client's own request
 * throttle (40 a second by default, in windows of 100 ms) is lifted, or it, not the gateway, would set the
 * figure.
 */
async function simOrderRoundTrips(port: number, count: number): Promise<number[]> {
  const api = await connectedClient(port, 500, 10_000);
  let orderId = await new Promise<number>((resolve) => {
    api.once(EventName.nextValidId, (id: number) => resolve(id));
    api.reqIds();
  });
  let filled: (id: number) => void = () => undefined;
  api.on(EventName.orderStatus, (id: number, status: string) => {
    if (status === 'Filled') filled(id);
  });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = orderId++;
    const arrived = new Promise<void>((resolve) => (filled = (done) => done === id && resolve()));
    const sent = nowMs();
    api.placeOrder(id, EUR_USD, {
      action: i % 2 === 0 ? OrderAction.BUY : OrderAction.SELL,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
      transmit: true,
    });
    await arrived;
    samples.push(nowMs() - sent);
  }
  api.disconnect();
  return samples;
}

/**
 * `@stoqey/ib` against the simulated gateway running in its own process, against a bare `net` server in its
 * own process doing the same number of frames and round trips over the same loopback.
 */
export const gatewaySimSuite: Suite = {
  name: 'gateway-sim',
  description: '@stoqey/ib ↔ simulated gateway (own process) vs bare TCP frames/round trips on loopback',
  async run({ scale, log }) {
    const windowMs = Math.max(1_000, Math.round(3_000 * scale));
    const roundTrips = Math.max(50, Math.round(500 * scale));
    const sim = spawnTs(join(__dirname, '..', '..', 'services', 'gateway-sim', 'src', 'cli.ts'), [
      '--port',
      '0',
      '--http-port',
      '0',
      '--always-open',
      '--speed',
      '100000',
      '--tick-interval',
      '5',
      '--quote-updates-per-tick',
      '2000',
      '--transmit',
      'lenient',
      '--no-pacing',
      '--log-level',
      'info',
    ]);
    const tick = encodeFrame(response.tickPrice(1, 1, 1.08515, 2_000_000, true));
    const raw = await startRawServer(tick, fillReplyBytes());
    try {
      const line = await sim.waitForLine('gateway-sim listening');
      const { port } = JSON.parse(line) as { port: number };
      log(`ticks to 1 client over ${windowMs} ms`);
      const simOne = await simTickRate(port, 1, windowMs, 1);
      const rawOne = await rawStreamRate(raw.port, 1, windowMs);
      log(`ticks to 10 clients over ${windowMs} ms`);
      const simTen = await simTickRate(port, 10, windowMs, 100);
      const rawTen = await rawStreamRate(raw.port, 10, windowMs);
      log(`order round trips × ${roundTrips}`);
      const simTrips = await simOrderRoundTrips(port, roundTrips);
      const rawTrips = await rawRoundTrips(raw.port, placeOrderFrame(), fillReplyBytes().length, roundTrips);
      const figures: Figure[] = [
        {
          name: 'gateway-sim.ticks.1-client',
          value: simOne,
          unit: 'msg/s',
          baselineName: 'bare TCP frames',
          baseline: rawOne,
          better: 'higher',
        },
        {
          name: 'gateway-sim.ticks.10-clients',
          value: simTen,
          unit: 'msg/s',
          baselineName: 'bare TCP frames',
          baseline: rawTen,
          better: 'higher',
        },
        {
          name: 'gateway-sim.order-round-trip.p50',
          value: percentile(simTrips, 50),
          unit: 'ms',
          baselineName: 'bare TCP echo',
          baseline: percentile(rawTrips, 50),
          better: 'lower',
        },
        {
          name: 'gateway-sim.order-round-trip.p99',
          value: percentile(simTrips, 99),
          unit: 'ms',
          baselineName: 'bare TCP echo',
          baseline: percentile(rawTrips, 99),
          better: 'lower',
        },
      ];
      return figures;
    } finally {
      await sim.kill('SIGTERM');
      raw.child.kill();
    }
  },
};
