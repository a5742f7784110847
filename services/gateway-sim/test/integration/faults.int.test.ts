import { setTimeout as delay } from 'node:timers/promises';

import {
  ConnectionState,
  type Contract,
  EventName,
  type Execution,
  OrderAction,
  OrderType,
  TimeInForce,
} from '@stoqey/ib';
import { eventually } from '@ibstack/test-kit';

import type { GatewaySim } from '../../src';
import { InstrumentTable } from '../../src/market/instruments';
import { QuoteBook } from '../../src/market/quotes';
import { connectClient, createApiNext, forex, RecordingClient, startTestSim } from '../support/harness';

describe('faults as a client sees them', () => {
  let sim: GatewaySim;
  const clients: RecordingClient[] = [];

  beforeEach(async () => {
    sim = await startTestSim({ speed: 60, transmitMode: 'lenient' });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await sim.close();
  });

  const client = async (clientId: number) => {
    const connected = await connectClient(sim, clientId);
    clients.push(connected);
    return connected;
  };

  const currentTimes = (recording: RecordingClient) => {
    const times: number[] = [];
    recording.api.on(EventName.currentTime, (time: number) => times.push(time));
    return times;
  };

  it('drops every connection: clients see a disconnect and IBApiNext reconnects by itself', async () => {
    const plain = await client(1);
    const api = createApiNext(sim.port, { reconnectInterval: 100 });
    const states: ConnectionState[] = [];
    const subscription = api.connectionState.subscribe((state) => states.push(state));
    api.connect(2);
    try {
      await eventually(() => expect(states).toContain(ConnectionState.Connected));
      sim.faults.dropAllConnections();
      await eventually(() => expect(plain.disconnects).toBe(1));
      await eventually(() =>
        expect(states.filter((state) => state === ConnectionState.Connected).length).toBe(2),
      );
      expect(states).toContain(ConnectionState.Disconnected);
    } finally {
      subscription.unsubscribe();
      api.disconnect();
    }
  });

  it('refuses connections for a while (ECONNREFUSED, error 502), then accepts again on the same port', async () => {
    const port = sim.port;
    sim.faults.refuseConnections(400);
    const refused = new RecordingClient(port);
    clients.push(refused);
    refused.api.connect(3);
    await eventually(() =>
      expect(refused.errors.some((error) => error.code === 502 && /ECONNREFUSED/.test(error.message))).toBe(
        true,
      ),
    );
    await delay(450);
    const accepted = await client(3);
    expect(accepted.nextValidId).toBe(1);
    expect(sim.port).toBe(port);
  });

  it('stalls: a connected session stops answering and a new one gets no handshake, until the stall ends', async () => {
    const connected = await client(1);
    const times = currentTimes(connected);
    sim.faults.stall(true);
    connected.api.reqCurrentTime();
    const waiting = new RecordingClient(sim.port);
    clients.push(waiting);
    waiting.api.connect(2);
    await delay(300);
    expect(times).toEqual([]);
    expect(waiting.serverVersion).toBe(0);
    sim.faults.stall(false);
    await eventually(() => expect(times).toHaveLength(1));
    await eventually(() => expect(waiting.nextValidId).toBe(1));
  });

  it('stalls: order and fill messages produced during the stall reach the client when it ends', async () => {
    const connected = await client(1);
    const statuses: string[] = [];
    const executions: string[] = [];
    connected.api.on(EventName.orderStatus, (_id: number, status: string) => statuses.push(status));
    connected.api.on(EventName.execDetails, (_reqId: number, _contract: Contract, execution: Execution) =>
      executions.push(execution.execId!),
    );
    sim.faults.withholdFills(true);
    connected.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    await eventually(() => expect(statuses).toEqual(['Submitted']));
    sim.faults.stall(true);
    sim.faults.withholdFills(false);
    await delay(200);
    expect(sim.account.orders()[0]?.status).toBe('Filled');
    expect(executions).toEqual([]);
    expect(statuses).toEqual(['Submitted']);
    sim.faults.stall(false);
    await eventually(() => expect(statuses).toEqual(['Submitted', 'Filled']));
    expect(executions).toEqual([sim.account.executions()[0]!.execId]);
    expect(connected.disconnects).toBe(0);
  });

  it('stalls: a session whose queued messages outgrow the bound is dropped, not silently thinned', async () => {
    await sim.close();
    sim = await startTestSim({ speed: 60, transmitMode: 'lenient', stallBacklogBytes: 300 });
    const connected = await client(1);
    sim.faults.withholdFills(true);
    connected.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    await eventually(() => expect(sim.account.orders()[0]?.status).toBe('Submitted'));
    sim.faults.stall(true);
    sim.faults.withholdFills(false);
    await eventually(() => expect(sim.clients()).toEqual([]));
    sim.faults.stall(false);
    await eventually(() => expect(connected.disconnects).toBe(1));
    expect(sim.account.orders()[0]?.status).toBe('Filled');
  });

  it("performs IB's daily reset: 1100, no market data while down, then 1102 and the farm notices", async () => {
    const connected = await client(1);
    let ticks = 0;
    connected.api.on(EventName.tickPrice, () => (ticks += 1));
    connected.api.reqMktData(5, forex('EUR.USD'), '', false, false);
    await eventually(() => expect(ticks).toBeGreaterThan(2));
    const reset = sim.faults.dailyReset({ downMs: 500 });
    await eventually(() => expect(connected.infos.map((info) => info.code)).toContain(1100));
    await delay(100);
    const during = ticks;
    await delay(250);
    expect(ticks).toBe(during);
    await reset;
    await eventually(() => expect(connected.infos.map((info) => info.code)).toContain(1102));
    const codes = connected.infos.map((info) => info.code);
    expect(codes.indexOf(1102)).toBeGreaterThan(codes.indexOf(1100));
    expect(codes.slice(codes.indexOf(1102))).toEqual(expect.arrayContaining([2104, 2106, 2158]));
    await eventually(() => expect(ticks).toBeGreaterThan(during));
  });

  it('rejects the next order with the given reason, then accepts orders again', async () => {
    const connected = await client(1);
    const seen: string[] = [];
    connected.api.on(EventName.error, (_error: Error, code: number, id: number) =>
      seen.push(`error ${id} ${code}`),
    );
    connected.api.on(
      EventName.openOrder,
      (id: number, _contract: Contract, _order: unknown, state: { status?: string }) =>
        seen.push(`openOrder ${id} ${state.status}`),
    );
    connected.api.on(EventName.orderStatus, (id: number, status: string) =>
      seen.push(`orderStatus ${id} ${status}`),
    );
    sim.faults.rejectNextOrder('Simulated risk check failed');
    connected.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    connected.api.placeOrder(2, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    await eventually(() =>
      expect(connected.errors).toContainEqual({
        id: 1,
        code: 201,
        message: 'Order rejected - reason:Simulated risk check failed',
      }),
    );
    await eventually(() =>
      expect(sim.account.orders().find((order) => order.orderId === 2)?.status).toBe('Filled'),
    );
    expect(sim.account.orders().find((order) => order.orderId === 1)?.status).toBe('Inactive');
    expect(seen.filter((entry) => / 1 /.test(entry))).toEqual([
      'error 1 201',
      'openOrder 1 Inactive',
      'orderStatus 1 Inactive',
    ]);
  });

  it('delays fills: the order stays Submitted for the delay, then fills', async () => {
    const connected = await client(1);
    const statuses: Array<{ status: string; at: number }> = [];
    connected.api.on(EventName.orderStatus, (_id: number, status: string) =>
      statuses.push({ status, at: Date.now() }),
    );
    sim.faults.delayFills(400);
    const placedAt = Date.now();
    connected.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    await eventually(() => expect(statuses.map((entry) => entry.status)).toEqual(['Submitted', 'Filled']));
    expect(statuses[1]!.at - placedAt).toBeGreaterThanOrEqual(380);
  });

  it('withholds fills until released', async () => {
    const connected = await client(1);
    const executions: string[] = [];
    connected.api.on(EventName.execDetails, (_reqId: number, _contract: Contract, execution: Execution) =>
      executions.push(execution.execId!),
    );
    sim.faults.withholdFills(true);
    connected.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    connected.api.placeOrder(2, forex('EUR.USD'), {
      action: OrderAction.SELL,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    await delay(300);
    expect(executions).toEqual([]);
    expect(sim.account.orders().map((order) => order.status)).toEqual(['Submitted', 'Submitted']);
    sim.faults.withholdFills(false);
    await eventually(() => expect(executions).toHaveLength(2));
    expect(sim.account.orders().map((order) => order.status)).toEqual(['Filled', 'Filled']);
  });

  it('delays commissions: the report trails its execution, and reqExecutions leaves it out until it is due', async () => {
    const connected = await client(1);
    const commissions: Array<{ execId: string; at: number }> = [];
    const executions: Array<{ reqId: number; execId: string; at: number }> = [];
    connected.api.on(EventName.commissionReport, (report: { execId?: string }) =>
      commissions.push({ execId: report.execId!, at: Date.now() }),
    );
    connected.api.on(EventName.execDetails, (reqId: number, _contract: Contract, execution: Execution) =>
      executions.push({ reqId, execId: execution.execId!, at: Date.now() }),
    );
    const ended = new Set<number>();
    connected.api.on(EventName.execDetailsEnd, (reqId: number) => ended.add(reqId));
    sim.faults.delayCommissions(600);
    connected.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    await eventually(() => expect(executions).toHaveLength(1));
    connected.api.reqExecutions(7, {});
    await eventually(() => expect(ended.has(7)).toBe(true));
    expect(executions.filter((execution) => execution.reqId === 7)).toHaveLength(1);
    expect(commissions).toEqual([]);
    await eventually(() => expect(commissions).toHaveLength(1));
    expect(commissions[0]!.execId).toBe(executions[0]!.execId);
    expect(commissions[0]!.at - executions[0]!.at).toBeGreaterThanOrEqual(550);
  });

  it('drifts a position without any order: position subscribers see it, executions do not', async () => {
    const connected = await client(1);
    const positions: Array<{ symbol: string; position: number }> = [];
    let ended = false;
    connected.api.on(EventName.position, (_account: string, contract: Contract, position: number) =>
      positions.push({ symbol: contract.localSymbol ?? '', position }),
    );
    connected.api.on(EventName.positionEnd, () => (ended = true));
    connected.api.reqPositions();
    await eventually(() => expect(ended).toBe(true));
    sim.faults.driftPosition('EUR.CAD', 15_000);
    await eventually(() => expect(positions).toContainEqual({ symbol: 'EUR.CAD', position: 15_000 }));
    expect(sim.account.executions()).toEqual([]);
    expect(sim.account.positions()).toEqual([
      expect.objectContaining({ instrument: 'EURCAD', quantity: 15_000 }),
    ]);
    expect(() => sim.faults.driftPosition('XXX.YYY', 1)).toThrow('unknown instrument');
  });

  it('lets the market run while nobody is connected: orders it reaches fill at its prices, the rest keep resting', async () => {
    const connected = await client(1);
    const eurCad = new InstrumentTable().get('EURCAD');
    const book = new QuoteBook(new InstrumentTable(), 42);
    const second = Math.floor(sim.now() / 1000);
    // A limit the deterministic market reaches within half an hour, and others it does not reach.
    let near = 0;
    for (let offset = 5; offset < 1_800; offset++)
      near = Math.max(near, book.atSecond(eurCad, second + offset).bid);
    const { bid, ask } = sim.quote('EUR.CAD')!;
    const tick = 0.00005;
    const far = Number((Math.round((bid * 1.1) / tick) * tick).toFixed(5));
    const stop = Number((Math.round((ask * 1.1) / tick) * tick).toFixed(5));
    const placedAt = sim.now();
    const gtc = { totalQuantity: 20_000, tif: TimeInForce.GTC };
    // Withheld, so nothing reaches the client live, whenever the market gets there.
    sim.faults.withholdFills(true);
    connected.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.SELL,
      orderType: OrderType.LMT,
      lmtPrice: near,
      ...gtc,
    });
    connected.api.placeOrder(2, forex('EUR.CAD'), {
      action: OrderAction.SELL,
      orderType: OrderType.LMT,
      lmtPrice: far,
      ...gtc,
    });
    connected.api.placeOrder(3, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.STP,
      auxPrice: stop,
      ...gtc,
    });
    await eventually(() => expect(sim.account.orders()).toHaveLength(3));
    const seenLive: string[] = [];
    connected.api.on(EventName.execDetails, (_reqId: number, _contract: Contract, execution: Execution) =>
      seenLive.push(execution.execId!),
    );
    await sim.faults.fillWhileDisconnected({ maxAdvanceMs: 3_600_000 });
    sim.faults.withholdFills(false);
    await eventually(() => expect(connected.disconnects).toBe(1));
    expect(seenLive).toEqual([]);
    const [reached, resting, untriggered] = sim.account.orders();
    expect(reached).toMatchObject({ status: 'Filled', filled: 20_000 });
    expect(resting).toMatchObject({ status: 'Submitted', filled: 0 });
    expect(untriggered).toMatchObject({ status: 'PreSubmitted', filled: 0 });
    // The fill is at the bid of the second it happened in, which reached the limit.
    const [execution] = sim.account.executions();
    const quoteThen = book.atSecond(eurCad, Math.floor(execution!.time / 1000));
    expect(execution).toMatchObject({ orderId: 1, shares: 20_000, price: quoteThen.bid });
    expect(execution!.price).toBeGreaterThanOrEqual(near);
    expect(execution!.time).toBeGreaterThanOrEqual(placedAt - 1_000);
    // The market ran on while nobody was connected.
    expect(sim.now()).toBeGreaterThanOrEqual(placedAt + 3_600_000);

    await connected.connect(1);
    const found: Array<{ reqId: number; orderId: number }> = [];
    let done = false;
    connected.api.on(EventName.execDetails, (reqId: number, _contract: Contract, execution: Execution) =>
      found.push({ reqId, orderId: execution.orderId! }),
    );
    connected.api.on(EventName.execDetailsEnd, () => (done = true));
    connected.api.reqExecutions(77, {});
    await eventually(() => expect(done).toBe(true));
    expect(found).toEqual([{ reqId: 77, orderId: 1 }]);
  });
});
