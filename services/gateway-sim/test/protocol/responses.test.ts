import { BUILT_IN_INSTRUMENTS } from '../../src/market/instruments';
import * as response from '../../src/protocol/responses';
import type { SimExecution, SimOrder } from '../../src/trading/types';
import { decodeWithClient } from '../support/client-decoder';

const EUR_CAD = BUILT_IN_INSTRUMENTS.find((instrument) => instrument.key === 'EURCAD')!;
const AAPL = BUILT_IN_INSTRUMENTS.find((instrument) => instrument.key === 'AAPL')!;

const order: SimOrder = {
  orderId: 5,
  permId: 1_234_567,
  clientId: 7,
  account: 'DU1234567',
  orderRef: 'intent-1',
  action: 'BUY',
  totalQuantity: 20000,
  orderType: 'LMT',
  lmtPrice: 1.45,
  auxPrice: undefined,
  tif: 'GTC',
  outsideRth: false,
  transmit: true,
  parentId: 0,
  status: 'Submitted',
  filled: 5000,
  remaining: 15000,
  avgFillPrice: 1.44995,
  lastFillPrice: 1.44995,
  instrument: 'EURCAD',
  conId: EUR_CAD.conId,
  placedAt: 0,
  updatedAt: 0,
};

const execution: SimExecution = {
  execId: '0000e0d5.6745a1b2.01.01',
  orderId: 5,
  permId: 1_234_567,
  clientId: 7,
  account: 'DU1234567',
  orderRef: 'intent-1',
  instrument: 'EURCAD',
  conId: EUR_CAD.conId,
  side: 'BOT',
  shares: 5000,
  price: 1.44995,
  time: Date.parse('2026-03-03T15:00:00Z'),
  cumQty: 5000,
  avgPrice: 1.44995,
  commission: 2,
  commissionCurrency: 'USD',
  realizedPnl: undefined,
  exchange: 'IDEALPRO',
};

describe.each([176, 193])('server messages at version %i decode cleanly in @stoqey/ib', (serverVersion) => {
  it('encodes openOrder with the field count of the version and every value where the client reads it', () => {
    const frame = response.openOrder(serverVersion, order, EUR_CAD);
    expect(frame).toHaveLength(serverVersion === 176 ? 128 : 133);
    const decoded = decodeWithClient(serverVersion, [frame]);
    expect(decoded.errors).toEqual([]);
    const [orderId, contract, decodedOrder, state] = decoded.events[0]!.args as [
      number,
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    expect(orderId).toBe(5);
    expect(contract).toMatchObject({
      conId: EUR_CAD.conId,
      symbol: 'EUR',
      secType: 'CASH',
      currency: 'CAD',
      localSymbol: 'EUR.CAD',
    });
    expect(decodedOrder).toMatchObject({
      action: 'BUY',
      totalQuantity: 20000,
      orderType: 'LMT',
      lmtPrice: 1.45,
      tif: 'GTC',
      orderRef: 'intent-1',
      clientId: 7,
      permId: 1_234_567,
    });
    expect(state).toMatchObject({ status: 'Submitted' });
  });

  it('encodes completedOrder (96 fields at 176, 98 at 193) with the same contract and terms as openOrder', () => {
    const cancelled = { ...order, status: 'Cancelled' as const };
    const market = { ...order, orderType: 'MKT' as const, lmtPrice: undefined, filled: 20000, remaining: 0 };
    const frames = [
      response.completedOrder(serverVersion, cancelled, EUR_CAD, '20260303 15:00:00'),
      response.completedOrder(serverVersion, { ...market, status: 'Filled' }, EUR_CAD, '20260303 15:01:00'),
    ];
    for (const frame of frames) expect(frame).toHaveLength(serverVersion === 176 ? 96 : 98);
    const decoded = decodeWithClient(serverVersion, [...frames, response.completedOrdersEnd()]);
    expect(decoded.errors).toEqual([]);
    expect(decoded.events.map((event) => event.name)).toEqual([
      'completedOrder',
      'completedOrder',
      'completedOrdersEnd',
    ]);
    const [contract, limit, limitState] = decoded.events[0]!.args as Array<Record<string, unknown>>;
    expect(contract).toMatchObject({ conId: EUR_CAD.conId, symbol: 'EUR', secType: 'CASH', currency: 'CAD' });
    // The order's terms come back as they were placed, with the quantity filled; no stop price is set.
    const { action, totalQuantity, orderType, lmtPrice, tif, account, orderRef, permId } = order;
    expect(limit).toMatchObject({
      action,
      totalQuantity,
      orderType,
      lmtPrice,
      tif,
      account,
      orderRef,
      permId,
    });
    expect(limit).toMatchObject({ filledQuantity: 5000, auxPrice: undefined });
    // No client id on a completed order (the decoder never reads one).
    expect(limit!.clientId).toBeUndefined();
    expect(limitState).toMatchObject({
      status: 'Cancelled',
      completedTime: '20260303 15:00:00',
      completedStatus: 'Cancelled by Trader',
    });
    const [, filled, filledState] = decoded.events[1]!.args as Array<Record<string, unknown>>;
    expect(filled).toMatchObject({ orderType: 'MKT', lmtPrice: undefined, filledQuantity: 20000 });
    expect(filledState).toMatchObject({ status: 'Filled', completedStatus: 'Filled' });
  });

  it('encodes contract details for forex and stocks (40 fields at 176, 42 at 193 plus secIds)', () => {
    const hours = { tradingHours: '20260302:1700-20260303:1700', liquidHours: '20260302:1700-20260303:1700' };
    const forexFrame = response.contractDetails(serverVersion, 1, EUR_CAD, hours);
    expect(forexFrame).toHaveLength(serverVersion === 176 ? 40 : 42);
    const decoded = decodeWithClient(serverVersion, [
      forexFrame,
      response.contractDetails(serverVersion, 2, AAPL, hours),
    ]);
    expect(decoded.errors).toEqual([]);
    expect(decoded.events.map((event) => event.name)).toEqual(['contractDetails', 'contractDetails']);
    const details = decoded.events[1]!.args[1] as Record<string, unknown> & {
      contract: Record<string, unknown>;
    };
    expect(details.contract).toMatchObject({ conId: 265598, symbol: 'AAPL', primaryExch: 'NASDAQ' });
    expect(details).toMatchObject({
      minTick: 0.01,
      timeZoneId: 'US/Eastern',
      tradingHours: hours.tradingHours,
      secIdList: [{ tag: 'ISIN', value: 'US0378331005' }],
    });
  });

  it('encodes execDetails (31 fields at 176, 32 at 193), orderStatus and commissionReport', () => {
    const executionFrame = response.executionDetails(
      serverVersion,
      -1,
      execution,
      EUR_CAD,
      '20260303-15:00:00',
    );
    expect(executionFrame).toHaveLength(serverVersion === 176 ? 31 : 32);
    const decoded = decodeWithClient(serverVersion, [
      executionFrame,
      response.orderStatus(order),
      response.commissionReport(execution),
    ]);
    expect(decoded.errors).toEqual([]);
    expect(decoded.events[0]!.args[2]).toMatchObject({
      execId: execution.execId,
      side: 'BOT',
      shares: 5000,
      price: 1.44995,
      permId: 1_234_567,
      orderRef: 'intent-1',
    });
    expect(decoded.events[1]!.args).toEqual([
      5,
      'Submitted',
      5000,
      15000,
      1.44995,
      1_234_567,
      0,
      1.44995,
      7,
      '',
      0,
    ]);
    expect(decoded.events[2]!.args[0]).toMatchObject({
      execId: execution.execId,
      commission: 2,
      currency: 'USD',
      realizedPNL: undefined,
    });
  });

  it('encodes market data, bars, account and error messages', () => {
    const bar = { open: 1.45, high: 1.46, low: 1.44, close: 1.455, volume: -1, wap: -1, count: -1 };
    const frames = [
      response.tickPrice(1, 1, 1.4501, 1_000_000, true),
      response.tickSize(1, 0, 1_000_000),
      response.tickString(1, 45, '1772550000'),
      response.tickSnapshotEnd(1),
      response.marketDataType(1, 1),
      response.tickReqParams(1, 0.00005, '', 3),
      response.realTimeBar(2, 1_772_550_000, bar),
      response.historicalData(3, '20260303-14:00:00', '20260303-15:00:00', [
        { ...bar, label: '20260303 09:00:00 US/Eastern' },
      ]),
      response.historicalDataUpdate(3, { ...bar, label: '1772550000' }),
      response.position('DU1234567', EUR_CAD, 20000, 1.45),
      response.positionEnd(),
      response.accountSummary(4, 'DU1234567', 'NetLiquidation', '1000000.00', 'USD'),
      response.accountSummaryEnd(4),
      response.accountValue('NetLiquidation', '1000000.00', 'USD', 'DU1234567'),
      response.portfolioValue(
        EUR_CAD,
        {
          quantity: 20000,
          marketPrice: 1.45,
          marketValue: 29000,
          averageCost: 1.44,
          unrealizedPnl: 200,
          realizedPnl: 0,
        },
        'DU1234567',
      ),
      response.accountUpdateTime('10:00'),
      response.accountDownloadEnd('DU1234567'),
      response.managedAccounts(['DU1234567']),
      response.nextValidId(1),
      response.currentTime(1_772_550_000),
      response.openOrderEnd(),
      response.executionDetailsEnd(9),
      response.contractDetailsEnd(1),
      response.errorMessage(-1, 2104, 'Market data farm connection is OK:usfarm'),
    ];
    const decoded = decodeWithClient(serverVersion, frames);
    expect(decoded.errors).toEqual([]);
    expect(decoded.infos).toEqual([{ code: 2104, message: 'Market data farm connection is OK:usfarm' }]);
    expect(decoded.events.map((event) => event.name)).toEqual([
      'tickPrice',
      'tickSize',
      'tickString',
      'tickSnapshotEnd',
      'marketDataType',
      'tickReqParams',
      'realtimeBar',
      'historicalData',
      'historicalData',
      'historicalDataUpdate',
      'position',
      'positionEnd',
      'accountSummary',
      'accountSummaryEnd',
      'updateAccountValue',
      'updatePortfolio',
      'updateAccountTime',
      'accountDownloadEnd',
      'managedAccounts',
      'nextValidId',
      'currentTime',
      'openOrderEnd',
      'execDetailsEnd',
      'contractDetailsEnd',
    ]);
    // The decoder derives no BID_SIZE from a bid tickPrice: the simulator's explicit tickSize is the only one.
    expect(decoded.events[1]!.args).toEqual([1, 0, 1_000_000]);
  });

  it('reports errors with an id as errors carrying that id, and never sends invalid reject JSON', () => {
    const decoded = decodeWithClient(serverVersion, [
      response.errorMessage(12, 201, 'Order rejected - reason:"quoted"\0text'),
    ]);
    expect(decoded.errors).toEqual([{ message: 'Order rejected - reason:"quoted" text', code: 201 }]);
  });
});
