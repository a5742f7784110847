import {
  type CommissionReport,
  EventName,
  type Execution,
  type Order,
  OrderAction,
  OrderType,
  type OrderState,
  SecType,
  TimeInForce,
} from '@stoqey/ib';
import { eventually } from '@ibstack/test-kit';

import type { GatewaySim } from '../../src';
import { InstrumentTable } from '../../src/market/instruments';
import { QuoteBook } from '../../src/market/quotes';
import {
  connectApiNext,
  connectClient,
  forex,
  type RecordingClient,
  startTestSim,
  stock,
} from '../support/harness';

/** What the client saw for one order, in arrival order. */
function orderLog(client: RecordingClient) {
  const log: Array<{ event: string; orderId?: number; status?: string; detail?: unknown }> = [];
  client.api.on(EventName.openOrder, (orderId: number, _contract: unknown, order: Order, state: OrderState) =>
    log.push({ event: 'openOrder', orderId, status: state.status, detail: order }),
  );
  client.api.on(
    EventName.orderStatus,
    (
      orderId: number,
      status: string,
      filled: number,
      remaining: number,
      avgFillPrice: number,
      permId?: number,
    ) =>
      log.push({
        event: 'orderStatus',
        orderId,
        status,
        detail: { filled, remaining, avgFillPrice, permId },
      }),
  );
  client.api.on(EventName.execDetails, (reqId: number, _contract: unknown, execution: Execution) =>
    log.push({ event: 'execDetails', orderId: execution.orderId, detail: { reqId, ...execution } }),
  );
  client.api.on(EventName.commissionReport, (report: CommissionReport) =>
    log.push({ event: 'commissionReport', detail: report }),
  );
  return log;
}

const limitFar = (price: number, action: 'BUY' | 'SELL', tick = 0.00005) =>
  Number((Math.round((action === 'BUY' ? price * 0.95 : price * 1.05) / tick) * tick).toFixed(5));

describe.each([176, 193] as const)('orders at server version %i', (serverVersion) => {
  let sim: GatewaySim;
  let client: RecordingClient;

  beforeEach(async () => {
    sim = await startTestSim({ serverVersion, speed: 60, transmitMode: 'lenient' });
    client = await connectClient(sim, 1);
  });
  afterEach(async () => {
    client.disconnect();
    await sim.close();
  });

  it('fills a market order in IB order: openOrder, orderStatus, execDetails, Filled, commissionReport, orderRef echoed', async () => {
    const log = orderLog(client);
    client.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 20000,
      orderRef: 'intent-1',
    });
    await eventually(() => expect(log.map((entry) => entry.event)).toContain('commissionReport'));
    expect(log.map((entry) => [entry.event, entry.status])).toEqual([
      ['openOrder', 'Submitted'],
      ['orderStatus', 'Submitted'],
      ['execDetails', undefined],
      ['openOrder', 'Filled'],
      ['orderStatus', 'Filled'],
      ['commissionReport', undefined],
    ]);
    expect(log[0]!.detail).toMatchObject({ orderRef: 'intent-1', totalQuantity: 20000, clientId: 1 });
    const execution = log[2]!.detail as Execution & { reqId: number };
    expect(execution).toMatchObject({
      reqId: -1,
      side: 'BOT',
      shares: 20000,
      orderRef: 'intent-1',
      acctNumber: 'DU1234567',
    });
    expect(execution.execId).toMatch(/^[0-9a-f]{8}\.[0-9a-f]{8}\.01\.01$/);
    expect(log[4]!.detail).toMatchObject({ filled: 20000, remaining: 0, avgFillPrice: execution.price });
    expect(log[5]!.detail).toEqual({
      execId: execution.execId,
      commission: 2,
      currency: 'USD',
      realizedPNL: undefined,
      yield: undefined,
      yieldRedemptionDate: 0,
    });
    expect(sim.account.orders()[0]).toMatchObject({
      orderId: 1,
      status: 'Filled',
      orderRef: 'intent-1',
      instrument: 'EURCAD',
    });
    expect(client.decodingErrors()).toEqual([]);
  });

  it('fills an order larger than the top of book in several executions with unique exec ids', async () => {
    const log = orderLog(client);
    client.api.placeOrder(2, forex('EUR.USD'), {
      action: OrderAction.SELL,
      orderType: OrderType.MKT,
      totalQuantity: 12_000_000,
    });
    await eventually(
      () =>
        expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Filled')).toBe(true),
      { timeoutMs: 5_000 },
    );
    const executions = log
      .filter((entry) => entry.event === 'execDetails')
      .map((entry) => entry.detail as Execution);
    expect(executions.length).toBeGreaterThan(2);
    expect(new Set(executions.map((execution) => execution.execId)).size).toBe(executions.length);
    expect(executions.reduce((sum, execution) => sum + execution.shares!, 0)).toBe(12_000_000);
    expect(executions.map((execution) => execution.cumQty)).toEqual(
      [...executions.map((execution) => execution.cumQty)].sort((a, b) => a! - b!),
    );
    const partial = log.find(
      (entry) =>
        entry.event === 'orderStatus' &&
        entry.status === 'Submitted' &&
        (entry.detail as { filled: number }).filled > 0,
    );
    expect(partial).toBeDefined();
  });

  it('rests a limit order, modifies it under the same id, and fills it once marketable', async () => {
    const log = orderLog(client);
    const ask = sim.quote('EUR.CAD')!.ask;
    client.api.placeOrder(3, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: limitFar(ask, 'BUY'),
      totalQuantity: 50000,
      tif: TimeInForce.GTC,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Submitted')).toBe(true),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log.some((entry) => entry.event === 'execDetails')).toBe(false);
    client.api.placeOrder(3, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: limitFar(ask, 'SELL'),
      totalQuantity: 60000,
      tif: TimeInForce.GTC,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Filled')).toBe(true),
    );
    const execution = log.find((entry) => entry.event === 'execDetails')!.detail as Execution;
    expect(execution.shares).toBe(60000);
    expect(execution.price).toBeLessThan(limitFar(ask, 'SELL'));
    expect(sim.account.orders()).toHaveLength(1);
  });

  it('cancels a resting order (Cancelled, 202) and answers cancels of unknown or filled orders with 10147 and 10148', async () => {
    const log = orderLog(client);
    const bid = sim.quote('EUR.CAD')!.bid;
    client.api.placeOrder(4, forex('EUR.CAD'), {
      action: OrderAction.SELL,
      orderType: OrderType.LMT,
      lmtPrice: limitFar(bid, 'SELL'),
      totalQuantity: 10000,
      tif: TimeInForce.DAY,
    });
    await eventually(() => expect(log.some((entry) => entry.status === 'Submitted')).toBe(true));
    client.api.cancelOrder(4, { manualOrderCancelTime: '' });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Cancelled')).toBe(true),
    );
    await eventually(() =>
      expect(client.errors).toContainEqual({ id: 4, code: 202, message: 'Order Canceled - reason:' }),
    );
    client.api.cancelOrder(99, { manualOrderCancelTime: '' });
    client.api.placeOrder(5, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10000,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.orderId === 5 && entry.status === 'Filled')).toBe(true),
    );
    client.api.cancelOrder(5, { manualOrderCancelTime: '' });
    await eventually(() => expect(client.errorCodes()).toEqual(expect.arrayContaining([10147, 10148])));
    expect(client.errors.find((error) => error.code === 10148)).toEqual({
      id: 5,
      code: 10148,
      message: 'OrderId 5 that needs to be cancelled cannot be cancelled, state: Filled.',
    });
  });

  it('ends a fully filled IOC order as Filled, also when its fill is delayed: no Cancelled, no 202', async () => {
    const log = orderLog(client);
    sim.faults.delayFills(150);
    client.api.placeOrder(7, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
      tif: TimeInForce.IOC,
    });
    await eventually(() => expect(log.map((entry) => entry.event)).toContain('commissionReport'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const statuses = log.filter((entry) => entry.event === 'orderStatus');
    expect(statuses.map((entry) => entry.status)).toEqual(['Submitted', 'Filled']);
    expect(statuses[1]!.detail).toMatchObject({ filled: 10_000, remaining: 0 });
    expect(client.errorCodes()).not.toContain(202);
    expect(sim.account.orders()[0]).toMatchObject({ status: 'Filled', filled: 10_000 });
  });

  it('cancels only the unmatched rest of an IOC order larger than the book, after its fill', async () => {
    const log = orderLog(client);
    client.api.placeOrder(8, forex('EUR.USD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 12_000_000,
      tif: TimeInForce.IOC,
    });
    await eventually(() => expect(client.errorCodes()).toContain(202));
    const events = log.map((entry) => (entry.event === 'orderStatus' ? entry.status : entry.event));
    expect(events.filter((event) => event !== 'openOrder')).toEqual([
      'Submitted',
      'execDetails',
      'Submitted',
      'commissionReport',
      'Cancelled',
    ]);
    const filled = (log.find((entry) => entry.event === 'execDetails')!.detail as Execution).shares!;
    expect(log.at(-1)).toMatchObject({
      status: 'Cancelled',
      detail: { filled, remaining: 12_000_000 - filled },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sim.account.executions()).toHaveLength(1);
  });

  it('reports a margin reject as error 201, then the order as Inactive (openOrder + orderStatus)', async () => {
    const log = orderLog(client);
    client.api.placeOrder(9, forex('EUR.USD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 50_000_000,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Inactive')).toBe(true),
    );
    expect(client.errors.map((error) => [error.id, error.code])).toEqual([[9, 201]]);
    expect(client.errors[0]!.message).toContain('YOUR ORDER IS NOT ACCEPTED');
    expect(log.map((entry) => `${entry.event} ${entry.status}`)).toEqual([
      'openOrder Inactive',
      'orderStatus Inactive',
    ]);
  });

  it('reports a stop the market already touches as PreSubmitted, then Submitted and Filled', async () => {
    const log = orderLog(client);
    const bid = sim.quote('EUR.USD')!.bid;
    client.api.placeOrder(6, forex('EUR.USD'), {
      action: OrderAction.SELL,
      orderType: OrderType.STP,
      auxPrice: Number((bid + 0.001).toFixed(5)),
      totalQuantity: 25000,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Filled')).toBe(true),
    );
    const statuses = log.filter((entry) => entry.event === 'orderStatus').map((entry) => entry.status);
    expect(statuses[0]).toBe('PreSubmitted');
    expect(statuses).toContain('Submitted');
  });

  it('keeps a stop below the market PreSubmitted until the bid falls to it, then fills it', async () => {
    const log = orderLog(client);
    // The simulator's own quotes (default seed 42): a stop a tick under the lowest bid of the next few
    // simulated minutes, and the first second after them at which the bid reaches it.
    const table = new InstrumentTable();
    const book = new QuoteBook(table, 42);
    const eurUsd = table.get('EURUSD');
    const bidAt = (second: number) => book.atSecond(eurUsd, second, false).bid;
    const from = Math.floor(sim.now() / 1000);
    let stop = 0;
    let trigger: number | undefined;
    for (const hold of [120, 180, 240, 300]) {
      let lowest = Infinity;
      for (let second = from; second <= from + hold; second++) lowest = Math.min(lowest, bidAt(second));
      stop = Number((lowest - 0.00005).toFixed(5));
      for (let second = from + hold + 1; second <= from + 900 && trigger === undefined; second++)
        if (bidAt(second) <= stop) trigger = second;
      if (trigger !== undefined) break;
    }
    expect(trigger).toBeDefined();
    client.api.placeOrder(6, forex('EUR.USD'), {
      action: OrderAction.SELL,
      orderType: OrderType.STP,
      auxPrice: stop,
      totalQuantity: 25000,
    });
    await eventually(() => expect(sim.account.orders()).toHaveLength(1));
    const placedAt = Math.floor(sim.now() / 1000);
    expect(placedAt).toBeLessThan(trigger!);
    expect(sim.account.orders()[0]).toMatchObject({ status: 'PreSubmitted', filled: 0 });
    await eventually(
      () =>
        expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Filled')).toBe(true),
      { timeoutMs: 25_000 },
    );
    const [execution] = sim.account.executions();
    expect(Math.floor(execution!.time / 1000)).toBeGreaterThanOrEqual(trigger!);
    expect(execution!.price).toBeLessThanOrEqual(stop);
    const statuses = log.filter((entry) => entry.event === 'orderStatus').map((entry) => entry.status);
    expect(statuses[0]).toBe('PreSubmitted');
    expect(statuses).toContain('Submitted');
  }, 40_000);

  it('answers a reused order id with 103 and invalid orders with IB codes', async () => {
    client.api.placeOrder(7, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10000,
    });
    await eventually(() => expect(sim.account.orders()[0]?.status).toBe('Filled'));
    client.api.placeOrder(7, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10000,
    });
    client.api.placeOrder(8, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 0,
    });
    client.api.placeOrder(9, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: 1.123456,
      totalQuantity: 10000,
    });
    client.api.placeOrder(
      10,
      { symbol: 'ZZZ', secType: SecType.STK, exchange: 'SMART', currency: 'USD' },
      { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 1 },
    );
    client.api.placeOrder(11, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      totalQuantity: 10000,
    });
    await eventually(() =>
      expect(client.errors.map((error) => error.id).sort((a, b) => a - b)).toEqual([7, 8, 9, 10, 11]),
    );
    expect(Object.fromEntries(client.errors.map((error) => [error.id, error.code]))).toEqual({
      7: 103,
      8: 434,
      9: 110,
      10: 200,
      11: 201,
    });
  });

  it('serves IBApiNext: placeNewOrder, open orders, executions and commission reports', async () => {
    const api = await connectApiNext(sim.port, 2);
    try {
      const ask = sim.quote('AAPL')!.ask;
      const resting = await api.placeNewOrder(stock('AAPL'), {
        action: OrderAction.BUY,
        orderType: OrderType.LMT,
        lmtPrice: Number((ask * 0.9).toFixed(2)),
        totalQuantity: 100,
        orderRef: 'rest',
        tif: TimeInForce.GTC,
      });
      const filled = await api.placeNewOrder(stock('AAPL'), {
        action: OrderAction.BUY,
        orderType: OrderType.MKT,
        totalQuantity: 100,
        orderRef: 'now',
      });
      expect(filled).toBeGreaterThan(resting);
      await eventually(() =>
        expect(sim.account.executions().some((execution) => execution.orderId === filled)).toBe(true),
      );
      const open = await api.getAllOpenOrders();
      expect(open.map((entry) => [entry.orderId, entry.order.orderRef, entry.orderState.status])).toEqual([
        [resting, 'rest', 'Submitted'],
      ]);
      const executions = await api.getExecutionDetails({});
      expect(
        executions.map((execution) => [
          execution.execution.orderId,
          execution.execution.shares,
          execution.contract.symbol,
        ]),
      ).toEqual([[filled, 100, 'AAPL']]);
      const commissions = await api.getCommissionReport({});
      expect(commissions).toEqual([
        expect.objectContaining({ execId: executions[0]!.execution.execId, commission: 1, currency: 'USD' }),
      ]);
    } finally {
      api.disconnect();
    }
  });
});

describe('order rules', () => {
  let sim: GatewaySim;
  let client: RecordingClient;

  afterEach(async () => {
    client.disconnect();
    await sim.close();
  });

  it('holds an order whose transmit flag is unset (strict, the default) until it is placed again with transmit', async () => {
    sim = await startTestSim({ speed: 60 });
    client = await connectClient(sim, 1);
    const log = orderLog(client);
    client.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10000,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'PendingSubmit')).toBe(
        true,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log.some((entry) => entry.event === 'execDetails')).toBe(false);
    client.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10000,
      transmit: true,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Filled')).toBe(true),
    );
  });

  it('keeps a transmitted order working (strict) when it is modified without transmit, and fills it on its new terms', async () => {
    sim = await startTestSim({ speed: 60 });
    client = await connectClient(sim, 1);
    const log = orderLog(client);
    const ask = sim.quote('EUR.CAD')!.ask;
    client.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: limitFar(ask, 'BUY'),
      totalQuantity: 10000,
      tif: TimeInForce.GTC,
      transmit: true,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Submitted')).toBe(true),
    );
    client.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: limitFar(ask, 'SELL'),
      totalQuantity: 10000,
      tif: TimeInForce.GTC,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Filled')).toBe(true),
    );
    expect(log.some((entry) => entry.status === 'PendingSubmit')).toBe(false);
  });

  it('holds a forex order placed while the market is closed as PreSubmitted and fills it at the Sunday 17:00 open', async () => {
    sim = await startTestSim({
      speed: 120,
      marketHours: 'forex',
      startTime: '2026-03-08T20:59:00Z',
      transmitMode: 'lenient',
    });
    client = await connectClient(sim, 1);
    const log = orderLog(client);
    client.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10000,
    });
    await eventually(() =>
      expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'PreSubmitted')).toBe(
        true,
      ),
    );
    await eventually(
      () =>
        expect(log.some((entry) => entry.event === 'orderStatus' && entry.status === 'Filled')).toBe(true),
      { timeoutMs: 5_000 },
    );
    const execution = sim.account.executions()[0]!;
    expect(execution.time).toBe(Date.parse('2026-03-08T21:00:00Z'));
  });

  it('answers reqExecutions with 11 × n, then 59 × n, then 55, filtered by client, symbol, side and time', async () => {
    sim = await startTestSim({ speed: 60, transmitMode: 'lenient' });
    client = await connectClient(sim, 1);
    const other = await connectClient(sim, 2);
    try {
      client.api.placeOrder(1, forex('EUR.CAD'), {
        action: OrderAction.BUY,
        orderType: OrderType.MKT,
        totalQuantity: 10000,
      });
      client.api.placeOrder(2, forex('EUR.USD'), {
        action: OrderAction.BUY,
        orderType: OrderType.MKT,
        totalQuantity: 10000,
      });
      client.api.placeOrder(3, forex('EUR.CAD'), {
        action: OrderAction.SELL,
        orderType: OrderType.MKT,
        totalQuantity: 5000,
      });
      other.api.placeOrder(4, forex('EUR.CAD'), {
        action: OrderAction.BUY,
        orderType: OrderType.MKT,
        totalQuantity: 7000,
      });
      await eventually(() => expect(sim.account.executions()).toHaveLength(4));
      const sequence: string[] = [];
      const shares: number[] = [];
      client.api.on(EventName.execDetails, (reqId: number, _contract: unknown, execution: Execution) => {
        if (reqId === 50) {
          sequence.push('11');
          shares.push(execution.shares!);
        }
      });
      client.api.on(EventName.commissionReport, () => sequence.push('59'));
      client.api.on(EventName.execDetailsEnd, (reqId: number) => sequence.push(`55:${reqId}`));
      client.api.reqExecutions(50, { clientId: '1', symbol: 'EUR', secType: SecType.CASH, side: 'BUY' });
      await eventually(() => expect(sequence).toContain('55:50'));
      expect(sequence).toEqual(['11', '11', '59', '59', '55:50']);
      expect(shares.sort()).toEqual([10000, 10000]);
      sequence.length = 0;
      client.api.reqExecutions(51, { time: '20300101-00:00:00' });
      await eventually(() => expect(sequence).toEqual(['55:51']));
    } finally {
      other.disconnect();
    }
  });
});
