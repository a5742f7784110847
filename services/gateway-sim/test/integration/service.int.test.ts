import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { performance } from 'node:perf_hooks';

import { EventName, OrderAction, OrderType, WhatToShow } from '@stoqey/ib';
import { createRegistry } from '@ibstack/observability';
import { eventually, spawnTs } from '@ibstack/test-kit';

import type { GatewaySim } from '../../src';
import { flagsToEnvironment } from '../../src/cli';
import { gatewaySimEnv } from '../../src/config';
import { connectClient, forex, RecordingClient, startTestSim } from '../support/harness';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function json(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const post = (url: string, body?: unknown) =>
  json(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('service endpoints', () => {
  let sim: GatewaySim;

  beforeEach(async () => {
    sim = await startTestSim({
      httpPort: 0,
      registry: createRegistry('test', { defaultMetrics: false }),
      transmitMode: 'lenient',
    });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('serves /healthz, /readyz, /metrics and /status', async () => {
    const client = await connectClient(sim, 4);
    try {
      client.api.reqRealTimeBars(90, forex('EUR.CAD'), 5, WhatToShow.MIDPOINT, false);
      const placedAt = performance.timeOrigin + performance.now();
      client.api.placeOrder(1, forex('EUR.CAD'), {
        action: OrderAction.BUY,
        orderType: OrderType.MKT,
        totalQuantity: 10_000,
        orderRef: 'timeline-check',
      });
      await eventually(() => expect(sim.account.executions()).toHaveLength(1));
      // The timeline records when the order arrived and when each real-time bar left, in wall-clock ms.
      const timeline = await eventually(async () => {
        const body = (await json(`${sim.httpUrl}/admin/timeline`)).body as ReturnType<typeof sim.timeline>;
        expect(body.bars.length).toBeGreaterThan(0);
        return body;
      });
      expect(timeline.orders.map(({ orderId, orderRef }) => ({ orderId, orderRef }))).toEqual([
        { orderId: 1, orderRef: 'timeline-check' },
      ]);
      expect(timeline.orders[0]!.receivedAt).toBeGreaterThanOrEqual(placedAt - 1);
      expect(timeline.orders[0]!.receivedAt - placedAt).toBeLessThan(5_000);
      expect(timeline.bars[0]!.instrument).toBe('EURCAD');
      expect(timeline.bars[0]!.barTime % 5).toBe(0);
      expect(timeline.bars[0]!.sentAt).toBeGreaterThan(placedAt - 60_000);
      client.api.cancelRealTimeBars(90);
      expect(await json(`${sim.httpUrl}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await json(`${sim.httpUrl}/readyz`)).toEqual({
        status: 200,
        body: { ready: true, checks: { 'api-listener': true } },
      });
      const metrics = await (await fetch(`${sim.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/gateway_sim_connections\{[^}]*\} 1/);
      expect(metrics).toMatch(/gateway_sim_messages_received_total\{[^}]*message="placeOrder"[^}]*\} 1/);
      expect(metrics).toMatch(/gateway_sim_messages_sent_total\{[^}]*message="executionData"[^}]*\} 1/);
      expect(metrics).toMatch(/gateway_sim_orders_total\{[^}]*outcome="accepted"[^}]*\} 1/);
      expect(metrics).toMatch(/gateway_sim_fills_total\{[^}]*\} 1/);
      const status = await json(`${sim.httpUrl}/status`);
      expect(status.body).toMatchObject({
        serverVersion: 176,
        port: sim.port,
        marketHours: 'always-open',
        transmitMode: 'lenient',
        account: 'DU1234567',
        stalled: false,
        nextOrderId: 2,
        clients: [expect.objectContaining({ clientId: 4, phase: 'ready' })],
        positions: [expect.objectContaining({ instrument: 'EURCAD', quantity: 10_000 })],
      });
    } finally {
      client.disconnect();
    }
  });

  it('injects faults through the admin API and answers bad requests in one error shape', async () => {
    const client = await connectClient(sim, 5);
    try {
      expect(
        await post(`${sim.httpUrl}/admin/reject-next-order`, { reason: 'From the admin API', code: 201 }),
      ).toEqual({ status: 200, body: { ok: true } });
      client.api.placeOrder(1, forex('EUR.CAD'), {
        action: OrderAction.BUY,
        orderType: OrderType.MKT,
        totalQuantity: 10_000,
      });
      await eventually(() =>
        expect(client.errors).toContainEqual({
          id: 1,
          code: 201,
          message: 'Order rejected - reason:From the admin API',
        }),
      );
      expect(
        (await post(`${sim.httpUrl}/admin/drift-position`, { instrument: 'EUR.USD', quantity: 3000 })).status,
      ).toBe(200);
      expect(sim.account.positions()).toEqual([
        expect.objectContaining({ instrument: 'EURUSD', quantity: 3000 }),
      ]);
      expect((await json(`${sim.httpUrl}/admin/positions`)).body).toEqual(sim.account.positions());
      expect((await json(`${sim.httpUrl}/admin/orders`)).body).toEqual(
        JSON.parse(JSON.stringify(sim.account.orders())),
      );
      expect((await json(`${sim.httpUrl}/admin/executions`)).body).toEqual(
        JSON.parse(JSON.stringify(sim.account.executions())),
      );
      expect((await post(`${sim.httpUrl}/admin/withhold-fills?on=true`)).status).toBe(200);
      expect((await json(`${sim.httpUrl}/status`)).body).toMatchObject({ fills: { withholding: true } });
      expect((await post(`${sim.httpUrl}/admin/withhold-fills`, { on: false })).status).toBe(200);
      expect((await post(`${sim.httpUrl}/admin/daily-reset`, { downMs: 50 })).status).toBe(200);
      await eventually(() =>
        expect(client.infos.map((info) => info.code)).toEqual(expect.arrayContaining([1100, 1102])),
      );
      expect((await json(`${sim.httpUrl}/admin/quote?instrument=EURCAD`)).body).toMatchObject({
        bid: expect.any(Number) as number,
      });
      expect((await post(`${sim.httpUrl}/admin/drop-connections`)).status).toBe(200);
      await eventually(() => expect(client.disconnects).toBe(1));

      // A long refusal, ended on demand.
      const dial = () =>
        new Promise<string>((resolve) => {
          const socket = connect(sim.port, '127.0.0.1', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        });
      expect((await post(`${sim.httpUrl}/admin/refuse-connections`, { ms: 600_000 })).status).toBe(200);
      expect(await dial()).toBe('ECONNREFUSED');
      expect((await post(`${sim.httpUrl}/admin/accept-connections`)).status).toBe(200);
      expect(await dial()).toBe('connected');

      expect(await post(`${sim.httpUrl}/admin/refuse-connections`, {})).toEqual({
        status: 400,
        body: { error: { code: 'missing_field', message: '"ms" is required', field: 'ms' } },
      });
      expect(await post(`${sim.httpUrl}/admin/drift-position`, { instrument: 'NOPE', quantity: 1 })).toEqual({
        status: 404,
        body: {
          error: { code: 'unknown_instrument', message: 'unknown instrument "NOPE"', field: 'instrument' },
        },
      });
      // The clock moves forward on demand (across IB's midnight cut-off, say), never back.
      const before = sim.now();
      expect((await post(`${sim.httpUrl}/admin/advance-clock`, { ms: 3_600_000 })).status).toBe(200);
      expect(sim.now() - before).toBeGreaterThanOrEqual(3_600_000);
      expect((await json(`${sim.httpUrl}/status`)).body).toMatchObject({
        timeZone: 'UTC',
        executionWindow: 'since-midnight',
        executionsSince: expect.stringMatching(/T00:00:00\.000Z$/) as unknown,
      });
      expect(await post(`${sim.httpUrl}/admin/advance-clock`, { ms: -1 })).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_field', field: 'ms' } },
      });
      expect((await json(`${sim.httpUrl}/admin/stall`)).status).toBe(405);
      expect((await post(`${sim.httpUrl}/admin/stall`, { on: 'maybe' })).status).toBe(400);
      // Node would fire a longer timer at once: refused rather than silently shortened.
      for (const [path, field] of [
        ['refuse-connections', 'ms'],
        ['daily-reset', 'downMs'],
        ['delay-fills', 'ms'],
      ] as const) {
        expect(await post(`${sim.httpUrl}/admin/${path}`, { [field]: 2 ** 31 })).toMatchObject({
          status: 400,
          body: { error: { code: 'invalid_field', field } },
        });
      }
      expect(() => sim.faults.delayFills(2 ** 31)).toThrow(RangeError);
    } finally {
      client.disconnect();
    }
  });
});

describe('the gateway-sim command', () => {
  it('turns flags into the environment they override', () => {
    expect(
      flagsToEnvironment([
        '--port',
        '4102',
        '--seed',
        '7',
        '--speed',
        '60',
        '--server-version',
        '193',
        '--always-open',
        '--transmit',
        'lenient',
        '--no-pacing',
        '--state-file',
        '/tmp/s.json',
        '--csv',
        'p.csv',
        '--http-port',
        '0',
        '--time-zone',
        'America/New_York',
        '--execution-window',
        'unlimited',
      ]),
    ).toEqual({
      GATEWAY_SIM_PORT: '4102',
      GATEWAY_SIM_SEED: '7',
      GATEWAY_SIM_SPEED: '60',
      GATEWAY_SIM_SERVER_VERSION: '193',
      GATEWAY_SIM_MARKET_HOURS: 'always-open',
      GATEWAY_SIM_TRANSMIT: 'lenient',
      GATEWAY_SIM_PACING: 'false',
      GATEWAY_SIM_STATE_FILE: '/tmp/s.json',
      GATEWAY_SIM_CSV: 'p.csv',
      HTTP_PORT: '0',
      GATEWAY_SIM_TIME_ZONE: 'America/New_York',
      GATEWAY_SIM_EXECUTION_WINDOW: 'unlimited',
    });
  });

  it('checks the gateway zone and the execution window, naming the field', () => {
    expect(gatewaySimEnv.parse({})).toMatchObject({
      GATEWAY_SIM_TIME_ZONE: 'UTC',
      GATEWAY_SIM_EXECUTION_WINDOW: 'since-midnight',
    });
    const zone = gatewaySimEnv.safeParse({ GATEWAY_SIM_TIME_ZONE: 'Mars/Olympus' });
    expect(zone.success ? [] : zone.error.issues.map((issue) => issue.path.join('.'))).toEqual([
      'GATEWAY_SIM_TIME_ZONE',
    ]);
    const window = gatewaySimEnv.safeParse({ GATEWAY_SIM_EXECUTION_WINDOW: 'forever' });
    expect(window.success ? [] : window.error.issues.map((issue) => issue.path.join('.'))).toEqual([
      'GATEWAY_SIM_EXECUTION_WINDOW',
    ]);
  });

  it('starts from flags over the environment, replays a CSV, serves clients and stops cleanly on SIGTERM', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'gateway-sim-cli-'));
    const csv = join(directory, 'prices.csv');
    writeFileSync(
      csv,
      'time,instrument,bid,ask\n2026-03-03T15:00:00Z,EUR.CAD,1.50000,1.50010\n2026-03-03T16:00:00Z,EUR.CAD,1.51000,1.51010\n',
    );
    const [port, httpPort] = [await freePort(), await freePort()];
    const child = spawnTs(
      join(__dirname, '..', '..', 'src', 'cli.ts'),
      [
        '--port',
        String(port),
        '--http-port',
        String(httpPort),
        '--seed',
        '42',
        '--server-version',
        '193',
        '--always-open',
        '--csv',
        csv,
        '--start-time',
        '2026-03-03T15:30:00Z',
        '--state-file',
        join(directory, 'state.json'),
      ],
      { GATEWAY_SIM_PORT: '1', LOG_LEVEL: 'info', GATEWAY_SIM_SPEED: '2' },
    );
    try {
      const line = await child.waitForLine('gateway-sim listening');
      expect(JSON.parse(line)).toMatchObject({
        port,
        serverVersion: 193,
        speed: 2,
        marketHours: 'always-open',
      });
      const client = await new RecordingClient(port).connect(1);
      const prices: number[] = [];
      client.api.on(EventName.tickPrice, (_reqId: number, type: number, price: number) => {
        if (type === 1) prices.push(price);
      });
      client.api.reqMktData(1, forex('EUR.CAD'), '', true, false);
      await eventually(() => expect(prices).toEqual([1.5]));
      expect(client.serverVersion).toBe(193);
      client.disconnect();
      expect((await json(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);
      await child.kill('SIGTERM');
      expect(child.child.exitCode).toBe(0);
    } finally {
      await child.kill();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses to start with a bad setting and names it', async () => {
    const child = spawnTs(join(__dirname, '..', '..', 'src', 'cli.ts'), [
      '--server-version',
      '180',
      '--port',
      '0',
      '--http-port',
      '0',
    ]);
    const { code } = await child.exited;
    expect(code).toBe(78);
  });
});
