import { EventName, OrderAction, OrderType, SecType } from '@stoqey/ib';
import { type GatewaySim, startGatewaySim } from '@ibstack/gateway-sim';
import { type ClassifiedIbError, IbConnection, type IbConnectionOptions } from '@ibstack/ib';
import { createRegistry } from '@ibstack/observability';
import { eventually, silentLogger } from '@ibstack/test-kit';

const EUR_CAD = { symbol: 'EUR', secType: SecType.CASH, currency: 'CAD', exchange: 'IDEALPRO' };

async function metric(connection: IbConnection, name: keyof IbConnection['metrics']): Promise<number> {
  const values = (await connection.metrics[name].get()).values;
  return values.reduce((sum, value) => sum + value.value, 0);
}

describe('IbConnection against the simulated gateway', () => {
  let sim: GatewaySim;
  const connections: IbConnection[] = [];

  beforeEach(async () => {
    sim = await startGatewaySim({
      port: 0,
      startTime: '2026-03-03T15:00:00Z',
      marketHours: 'always-open',
      transmitMode: 'lenient',
      logger: silentLogger('gateway-sim'),
      registry: createRegistry('gateway-sim', { defaultMetrics: false }),
    });
  });
  afterEach(async () => {
    await Promise.all(connections.splice(0).map((connection) => connection.stop()));
    await sim.close();
  });

  function connect(overrides: Partial<IbConnectionOptions> = {}): IbConnection {
    const connection = new IbConnection({
      host: '127.0.0.1',
      port: sim.port,
      clientId: 11,
      logger: silentLogger(),
      registry: createRegistry('test', { defaultMetrics: false }),
      backoff: { initialDelayMs: 50, maxDelayMs: 200 },
      ...overrides,
    });
    connections.push(connection);
    return connection;
  }

  function errorsOf(connection: IbConnection): ClassifiedIbError[] {
    const errors: ClassifiedIbError[] = [];
    connection.on('ibError', (error) => errors.push(error));
    return errors;
  }

  it('becomes ready with the paper account, the next order id and the server version', async () => {
    const connection = connect();
    const ready = new Promise((resolve) => connection.once('ready', resolve));
    connection.start();
    expect(await ready).toEqual({
      reconnect: false,
      nextValidId: 1,
      accounts: ['DU1234567'],
      serverVersion: 176,
    });
    expect(await metric(connection, 'connectionUp')).toBe(1);
  });

  it('backs off while the gateway refuses connections and connects once it listens again', async () => {
    sim.faults.refuseConnections(1_200);
    const connection = connect();
    const started = Date.now();
    connection.start();
    await eventually(async () =>
      expect(await metric(connection, 'reconnectFailures')).toBeGreaterThanOrEqual(2),
    );
    expect(connection.state).not.toBe('ready');
    await connection.waitUntilReady(5_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('detects a stalled session by heartbeat within seconds and recovers when the gateway answers again', async () => {
    const connection = connect({
      heartbeatIntervalMs: 200,
      heartbeatTimeoutMs: 1_000,
      connectTimeoutMs: 800,
    });
    connection.start();
    await connection.waitUntilReady();
    const readies: boolean[] = [];
    connection.on('ready', (info) => readies.push(info.reconnect));
    const stalledAt = Date.now();
    sim.faults.stall(true);
    await eventually(() => expect(connection.state).not.toBe('ready'), { timeoutMs: 3_000 });
    expect(Date.now() - stalledAt).toBeLessThan(2_500);
    expect(await metric(connection, 'heartbeatTimeouts')).toBe(1);
    sim.faults.stall(false);
    await eventually(() => expect(readies).toEqual([true]), { timeoutMs: 5_000 });
  });

  it('reconnects after the gateway drops the connection and counts the reconnect', async () => {
    const connection = connect();
    connection.start();
    await connection.waitUntilReady();
    const readies: boolean[] = [];
    connection.on('ready', (info) => readies.push(info.reconnect));
    sim.faults.dropAllConnections();
    await eventually(() => expect(readies).toEqual([true]));
    expect(await metric(connection, 'reconnects')).toBe(1);
  });

  it("reports the gateway's link to IB going down (1100) and coming back (1102) during a daily reset", async () => {
    const connection = connect();
    connection.start();
    await connection.waitUntilReady();
    const events: Array<{ up: boolean; code: number }> = [];
    connection.on('brokerConnectivity', ({ up, code }) => events.push({ up, code }));
    const reset = sim.faults.dailyReset({ downMs: 400 });
    await eventually(() => expect(events).toEqual([{ up: false, code: 1100 }]));
    expect(connection.isBrokerLinkUp()).toBe(false);
    expect(await metric(connection, 'brokerConnectivity')).toBe(0);
    await reset;
    await eventually(() =>
      expect(events).toEqual([
        { up: false, code: 1100 },
        { up: true, code: 1102 },
      ]),
    );
    expect(connection.isBrokerLinkUp()).toBe(true);
    expect(connection.state).toBe('ready');
  });

  it('starts every new session with the link to IB up, so an 1100 before a gateway restart does not stick', async () => {
    const connection = connect();
    connection.start();
    await connection.waitUntilReady();
    const reset = sim.faults.dailyReset({ downMs: 60_000 });
    await eventually(() => expect(connection.isBrokerLinkUp()).toBe(false));
    // The gateway restarts (IBGA's daily restart): the new one is linked and never sends 1101/1102.
    const port = sim.port;
    await sim.close();
    void reset.catch(() => undefined);
    sim = await startGatewaySim({
      port,
      marketHours: 'always-open',
      logger: silentLogger('gateway-sim'),
      registry: createRegistry('gateway-sim', { defaultMetrics: false }),
    });
    await eventually(async () => expect(await metric(connection, 'reconnects')).toBe(1), {
      timeoutMs: 10_000,
    });
    expect(connection.state).toBe('ready');
    expect(connection.isBrokerLinkUp()).toBe(true);
    expect(await metric(connection, 'brokerConnectivity')).toBe(1);
  });

  it('classifies real gateway errors by code: 200 no security definition, 103 duplicate order id', async () => {
    const connection = connect();
    const errors = errorsOf(connection);
    connection.start();
    await connection.waitUntilReady();
    connection.api.reqContractDetails(500, { ...EUR_CAD, currency: 'XYZ' });
    const order = { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 10_000 };
    connection.api.placeOrder(7, EUR_CAD, order);
    await eventually(() => expect(sim.account.orders()[0]?.status).toBe('Filled'));
    connection.api.placeOrder(7, EUR_CAD, order);
    await eventually(() =>
      expect(errors.map((error) => error.code)).toEqual(expect.arrayContaining([200, 103])),
    );
    expect(errors.find((error) => error.code === 200)).toMatchObject({
      kind: 'no_security_definition',
      requestId: 500,
      severity: 'error',
    });
    expect(errors.find((error) => error.code === 103)).toMatchObject({
      kind: 'duplicate_order_id',
      requestId: 7,
    });
  });

  it('classifies 326 when a second session uses a client id already connected, and keeps retrying', async () => {
    const first = connect({ clientId: 21 });
    first.start();
    await first.waitUntilReady();
    const second = connect({ clientId: 21 });
    const errors = errorsOf(second);
    second.start();
    await eventually(() =>
      expect(errors.find((error) => error.code === 326)).toMatchObject({
        kind: 'client_id_in_use',
        severity: 'critical',
      }),
    );
    await eventually(async () => expect(await metric(second, 'reconnectFailures')).toBeGreaterThanOrEqual(1));
    expect(second.state).not.toBe('ready');
    expect(first.state).toBe('ready');
    // Once the first session goes away, the id is free again.
    await first.stop();
    await second.waitUntilReady(5_000);
  });

  it('keeps one api object across reconnects, so listeners attached once keep receiving', async () => {
    const connection = connect();
    const times: number[] = [];
    connection.api.on(EventName.currentTime, (time: number) => times.push(time));
    connection.start();
    await connection.waitUntilReady();
    connection.api.reqCurrentTime();
    await eventually(() => expect(times).toHaveLength(1));
    sim.faults.dropAllConnections();
    await eventually(() => expect(connection.state).toBe('ready'));
    await eventually(async () => expect(await metric(connection, 'reconnects')).toBe(1));
    connection.api.reqCurrentTime();
    await eventually(() => expect(times.length).toBeGreaterThanOrEqual(2));
  });
});
