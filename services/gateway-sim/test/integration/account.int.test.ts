import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  type AccountSummariesUpdate,
  type CommissionReport,
  type AccountPositionsUpdate,
  EventName,
  type Execution,
  OrderAction,
  OrderType,
  TimeInForce,
  type Contract,
} from '@stoqey/ib';
import { eventually } from '@ibstack/test-kit';
import { firstValueFrom, filter } from 'rxjs';

import type { GatewaySim } from '../../src';
import {
  connectApiNext,
  connectClient,
  forex,
  type RecordingClient,
  startTestSim,
  stock,
} from '../support/harness';

async function trade(
  client: RecordingClient,
  sim: GatewaySim,
  orderId: number,
  contract: Contract,
  action: OrderAction,
  quantity: number,
) {
  const before = sim.account.executions().length;
  client.api.placeOrder(orderId, contract, {
    action,
    orderType: OrderType.MKT,
    totalQuantity: quantity,
    transmit: true,
  });
  await eventually(() =>
    expect(sim.account.orders().find((order) => order.orderId === orderId)?.status).toBe('Filled'),
  );
  expect(sim.account.executions().length).toBeGreaterThan(before);
}

describe.each([176, 193] as const)('account at server version %i', (serverVersion) => {
  let sim: GatewaySim;
  let client: RecordingClient;

  beforeEach(async () => {
    sim = await startTestSim({ serverVersion, speed: 1 });
    client = await connectClient(sim, 1);
  });
  afterEach(async () => {
    client.disconnect();
    await sim.close();
  });

  it('keeps executions, commissions, positions and account values in agreement after a series of trades', async () => {
    const commissions: CommissionReport[] = [];
    client.api.on(EventName.commissionReport, (report: CommissionReport) => commissions.push(report));
    await trade(client, sim, 1, forex('EUR.USD'), OrderAction.BUY, 100_000);
    await trade(client, sim, 2, stock('AAPL'), OrderAction.BUY, 200);
    await trade(client, sim, 3, forex('EUR.USD'), OrderAction.SELL, 40_000);
    await trade(client, sim, 4, stock('AAPL'), OrderAction.SELL, 300);
    const executions = sim.account.executions();
    await eventually(() => expect(commissions).toHaveLength(executions.length));

    // Every execution has exactly one commission report, with the same amount.
    expect(commissions.map((report) => report.execId)).toEqual(
      executions.map((execution) => execution.execId),
    );
    expect(commissions.map((report) => report.commission)).toEqual(
      executions.map((execution) => execution.commission),
    );

    // Positions are the signed sum of executions.
    const net = new Map<string, number>();
    for (const execution of executions) {
      net.set(
        execution.instrument,
        (net.get(execution.instrument) ?? 0) +
          (execution.side === 'BOT' ? execution.shares : -execution.shares),
      );
    }
    expect(
      Object.fromEntries(sim.account.positions().map((position) => [position.instrument, position.quantity])),
    ).toEqual({ EURUSD: 60_000, AAPL: -100 });
    expect(Object.fromEntries(net)).toEqual({ EURUSD: 60_000, AAPL: -100 });

    // What the client is told agrees with the same books.
    const api = await connectApiNext(sim.port, 2);
    try {
      const positions = await firstValueFrom(
        api
          .getPositions()
          .pipe(filter((update: AccountPositionsUpdate) => (update.all.get('DU1234567')?.length ?? 0) >= 2)),
      );
      const reported: Record<string, number> = {};
      for (const position of positions.all.get('DU1234567')!)
        reported[position.contract.symbol ?? '?'] = position.pos;
      expect(reported).toEqual({ EUR: 60_000, AAPL: -100 });

      const tags =
        'NetLiquidation,TotalCashValue,RealizedPnL,UnrealizedPnL,AvailableFunds,BuyingPower,AccountType';
      const summary = await firstValueFrom(
        api
          .getAccountSummary('All', tags)
          .pipe(filter((update: AccountSummariesUpdate) => (update.all.get('DU1234567')?.size ?? 0) >= 7)),
      );
      const value = (tag: string) => summary.all.get('DU1234567')!.get(tag)!;
      expect(value('AccountType').get('')?.value).toBe('INDIVIDUAL');
      const number = (tag: string) => Number(value(tag).get('USD')!.value);
      // Realized P&L: closing fills report theirs net of commission; opening fills only cost their commission.
      const realized = executions.reduce(
        (sum, execution) => sum + (execution.realizedPnl ?? -execution.commission),
        0,
      );
      expect(number('RealizedPnL')).toBeCloseTo(realized, 1);
      // With USD-quoted instruments, net liquidation is the starting cash plus realized and unrealized P&L.
      expect(number('NetLiquidation')).toBeCloseTo(
        1_000_000 + number('RealizedPnL') + number('UnrealizedPnL'),
        0,
      );
      expect(number('AvailableFunds')).toBeLessThan(number('NetLiquidation'));
      expect(number('BuyingPower')).toBeCloseTo(number('AvailableFunds') * 4, 0);
      const values = sim.account.values();
      expect(Number(values.RealizedPnL)).toBeCloseTo(realized, 1);
      expect(Math.abs(Number(values.NetLiquidation) - number('NetLiquidation'))).toBeLessThan(200);
      expect(Number(values['CashBalance.EUR'])).toBe(60_000);
    } finally {
      api.disconnect();
    }
  });

  it('streams account values and portfolio while subscribed, with updates after each fill', async () => {
    const values = new Map<string, string>();
    const portfolio = new Map<string, number>();
    let downloads = 0;
    client.api.on(EventName.updateAccountValue, (key: string, value: string, currency: string) =>
      values.set(`${key}:${currency}`, value),
    );
    client.api.on(EventName.updatePortfolio, (contract: Contract, position: number) =>
      portfolio.set(contract.symbol!, position),
    );
    client.api.on(EventName.accountDownloadEnd, () => (downloads += 1));
    client.api.reqAccountUpdates(true, 'DU1234567');
    await eventually(() => expect(downloads).toBe(1));
    expect(values.get('NetLiquidation:USD')).toBe('1000000.00');
    expect(values.get('AccountCode:')).toBe('DU1234567');
    await trade(client, sim, 1, forex('EUR.CAD'), OrderAction.BUY, 50_000);
    await eventually(() => expect(portfolio.get('EUR')).toBe(50_000));
    await eventually(() => expect(values.get('CashBalance:EUR')).toBe('50000.00'));
    expect(Number(values.get('CashBalance:CAD'))).toBeLessThan(0);
  });

  it('reports portfolio market value, unrealized and realized P&L in the contract currency (CAD for EUR.CAD)', async () => {
    const rows: Array<{
      position: number;
      marketValue: number;
      unrealized: number;
      realized: number;
      price: number;
      cost: number;
    }> = [];
    client.api.on(
      EventName.updatePortfolio,
      (
        contract: Contract,
        position: number,
        marketPrice: number,
        marketValue: number,
        averageCost?: number,
        unrealizedPNL?: number,
        realizedPNL?: number,
      ) => {
        if (contract.symbol === 'EUR' && contract.currency === 'CAD')
          rows.push({
            position,
            marketValue,
            unrealized: unrealizedPNL!,
            realized: realizedPNL!,
            price: marketPrice,
            cost: averageCost!,
          });
      },
    );
    client.api.reqAccountUpdates(true, 'DU1234567');
    await trade(client, sim, 1, forex('EUR.CAD'), OrderAction.BUY, 100_000);
    await trade(client, sim, 2, forex('EUR.CAD'), OrderAction.SELL, 50_000);
    await eventually(() => expect(rows.at(-1)?.position).toBe(50_000));
    const [buy, sell] = sim.account.executions();
    const usdPerCad = 1 / ((sim.quote('USD.CAD')!.bid + sim.quote('USD.CAD')!.ask) / 2);
    const expectedCad =
      (sell!.price - buy!.price) * 50_000 - (buy!.commission + sell!.commission) / usdPerCad;
    const last = rows.at(-1)!;
    expect(last.realized).toBeCloseTo(expectedCad, 0);
    expect(last.marketValue).toBeCloseTo(50_000 * last.price, 0);
    expect(last.unrealized).toBeCloseTo((last.price - last.cost) * 50_000, 0);
  });

  it('lists a client its own open orders on reqOpenOrders and those of every client on reqAllOpenOrders', async () => {
    const other = await connectClient(sim, 2);
    try {
      const bid = sim.quote('EUR.CAD')!.bid;
      const resting = (orderId: number) => ({
        action: OrderAction.BUY,
        orderType: OrderType.LMT,
        lmtPrice: Number((bid * 0.9).toFixed(4)),
        totalQuantity: 10_000 + orderId,
        tif: TimeInForce.GTC,
        transmit: true,
      });
      client.api.placeOrder(1, forex('EUR.CAD'), resting(1));
      other.api.placeOrder(7, forex('EUR.CAD'), resting(7));
      await eventually(() =>
        expect(sim.account.orders().filter((o) => o.status === 'Submitted')).toHaveLength(2),
      );

      const listed = async (request: () => void) => {
        const seen: Array<[number, number | undefined]> = [];
        let ended = false;
        const onOrder = (orderId: number, _contract: Contract, order: { clientId?: number }) =>
          seen.push([orderId, order.clientId]);
        const onEnd = () => (ended = true);
        client.api.on(EventName.openOrder, onOrder);
        client.api.on(EventName.openOrderEnd, onEnd);
        try {
          request();
          await eventually(() => expect(ended).toBe(true));
          return seen.sort((a, b) => a[0] - b[0]);
        } finally {
          client.api.off(EventName.openOrder, onOrder);
          client.api.off(EventName.openOrderEnd, onEnd);
        }
      };
      expect(await listed(() => client.api.reqOpenOrders())).toEqual([[1, 1]]);
      expect(await listed(() => client.api.reqAllOpenOrders())).toEqual([
        [1, 1],
        [7, 2],
      ]);
    } finally {
      other.disconnect();
    }
  });

  it('keeps orders, executions and positions across a client disconnect', async () => {
    const bid = sim.quote('EUR.CAD')!.bid;
    client.api.placeOrder(1, forex('EUR.CAD'), {
      action: OrderAction.SELL,
      orderType: OrderType.LMT,
      lmtPrice: Number((bid * 1.1).toFixed(4)),
      totalQuantity: 10_000,
      tif: TimeInForce.GTC,
      transmit: true,
    });
    await trade(client, sim, 2, forex('EUR.CAD'), OrderAction.BUY, 30_000);
    client.disconnect();
    const again = await connectClient(sim, 1);
    try {
      expect(again.nextValidId).toBe(3);
      const open: number[] = [];
      const executions: string[] = [];
      let ended = false;
      again.api.on(EventName.openOrder, (orderId: number) => open.push(orderId));
      again.api.on(EventName.openOrderEnd, () => (ended = true));
      again.api.on(EventName.execDetails, (_reqId: number, _contract: Contract, execution: Execution) =>
        executions.push(execution.execId!),
      );
      again.api.reqOpenOrders();
      again.api.reqExecutions(9, {});
      await eventually(() => expect(ended && executions.length === 1).toBe(true));
      expect(open).toEqual([1]);
      expect(executions).toEqual([sim.account.executions()[0]!.execId]);
    } finally {
      again.disconnect();
    }
  });
});

describe('account subscriptions', () => {
  let sim: GatewaySim;
  let client: RecordingClient;

  afterEach(async () => {
    client.disconnect();
    await sim.close();
  });

  it('refreshes account updates every three simulated minutes without any trade', async () => {
    sim = await startTestSim({ speed: 600 });
    client = await connectClient(sim, 1);
    const times: string[] = [];
    client.api.on(EventName.updateAccountTime, (time: string) => times.push(time));
    client.api.reqAccountUpdates(true, 'DU1234567');
    await eventually(() => expect(times.length).toBeGreaterThanOrEqual(3), { timeoutMs: 5_000 });
    client.api.reqAccountUpdates(false, 'DU1234567');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const settled = times.length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(times.length).toBe(settled);
  });

  it('sends position updates to reqPositions subscribers until they cancel', async () => {
    sim = await startTestSim({ transmitMode: 'lenient' });
    client = await connectClient(sim, 1);
    const positions: number[] = [];
    client.api.on(EventName.position, (_account: string, _contract: Contract, position: number) =>
      positions.push(position),
    );
    client.api.reqPositions();
    await trade(client, sim, 1, forex('EUR.CAD'), OrderAction.BUY, 10_000);
    await eventually(() => expect(positions).toEqual([10_000]));
    client.api.cancelPositions();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await trade(client, sim, 2, forex('EUR.CAD'), OrderAction.BUY, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(positions).toEqual([10_000]);
  });
});

describe('state file', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'gateway-sim-state-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('survives a restart: order ids continue, positions, executions and resting orders are kept', async () => {
    const stateFile = join(directory, 'state.json');
    const first = await startTestSim({ stateFile, transmitMode: 'lenient' });
    const client = await connectClient(first, 1);
    await trade(client, first, 41, forex('EUR.USD'), OrderAction.BUY, 25_000);
    const ask = first.quote('EUR.USD')!.ask;
    client.api.placeOrder(42, forex('EUR.USD'), {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: Number((ask * 0.9).toFixed(4)),
      totalQuantity: 5_000,
      tif: TimeInForce.GTC,
    });
    await eventually(() => expect(first.account.orders()).toHaveLength(2));
    const executions = first.account.executions();
    const permIds = first.account.orders().map((order) => order.permId);
    client.disconnect();
    await first.close();
    expect(readdirSync(directory).sort()).toEqual(['state.json', 'state.json.clock']);

    const second = await startTestSim({ stateFile, transmitMode: 'lenient' });
    const again = await connectClient(second, 1);
    try {
      expect(again.nextValidId).toBe(43);
      expect(second.account.positions()).toEqual([
        expect.objectContaining({ instrument: 'EURUSD', quantity: 25_000 }),
      ]);
      expect(second.account.executions()).toEqual(executions);
      expect(second.account.orders().find((order) => order.orderId === 42)?.status).toBe('Submitted');
      await trade(again, second, 43, forex('EUR.USD'), OrderAction.SELL, 25_000);
      const newPermId = second.account.orders().find((order) => order.orderId === 43)!.permId;
      expect(permIds).not.toContain(newPermId);
      expect(new Set(second.account.executions().map((execution) => execution.execId)).size).toBe(2);
    } finally {
      again.disconnect();
      await second.close();
    }
    expect(existsSync(stateFile)).toBe(true);
  });

  it('resumes its clock after a restart, so time never runs backwards for clients', async () => {
    const stateFile = join(directory, 'state.json');
    const fast = { stateFile, speed: 3_600, startTime: undefined };
    const first = await startTestSim(fast);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = first.now();
    expect(before - Date.now()).toBeGreaterThan(10 * 60_000); // 0.2 s at 3600x is 12 sim minutes ahead
    await first.close();

    const second = await startTestSim(fast);
    try {
      expect(second.now()).toBeGreaterThanOrEqual(before);
    } finally {
      await second.close();
    }
  });
});
