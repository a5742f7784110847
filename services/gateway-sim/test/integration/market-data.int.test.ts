import { EventName, type ContractDetails } from '@stoqey/ib';
import { eventually } from '@ibstack/test-kit';

import type { GatewaySim } from '../../src';
import { TickType } from '../../src/protocol/message-ids';
import {
  connectApiNext,
  connectClient,
  forex,
  type RecordingClient,
  startTestSim,
  stock,
} from '../support/harness';

describe.each([176, 193] as const)('contracts and market data at server version %i', (serverVersion) => {
  let sim: GatewaySim;
  let client: RecordingClient;

  beforeEach(async () => {
    sim = await startTestSim({ serverVersion, speed: 60 });
    client = await connectClient(sim, 1);
  });
  afterEach(async () => {
    client.disconnect();
    await sim.close();
  });

  it('describes forex pairs and stocks with IB conIds, hours, ticks and size rules; unknown contracts get 200', async () => {
    const details = new Map<number, ContractDetails[]>();
    const ended: number[] = [];
    client.api.on(EventName.contractDetails, (reqId: number, detail: ContractDetails) =>
      details.set(reqId, [...(details.get(reqId) ?? []), detail]),
    );
    client.api.on(EventName.contractDetailsEnd, (reqId: number) => ended.push(reqId));
    client.api.reqContractDetails(1, forex('EUR.CAD'));
    client.api.reqContractDetails(2, forex('EUR.USD'));
    client.api.reqContractDetails(3, stock('AAPL'));
    client.api.reqContractDetails(4, stock('NOPE'));
    await eventually(() => expect(ended.sort()).toEqual([1, 2, 3]));
    await eventually(() =>
      expect(client.errors).toContainEqual({
        code: 200,
        id: 4,
        message: 'No security definition has been found for the request',
      }),
    );
    const eurCad = details.get(1)![0]!;
    expect(eurCad.contract).toMatchObject({
      symbol: 'EUR',
      secType: 'CASH',
      currency: 'CAD',
      exchange: 'IDEALPRO',
      localSymbol: 'EUR.CAD',
    });
    expect(eurCad.contract.conId).toBeGreaterThan(0);
    expect(eurCad).toMatchObject({
      minTick: 0.00005,
      timeZoneId: 'US/Eastern',
      minSize: 1,
      sizeIncrement: 1,
    });
    expect(eurCad.tradingHours).toMatch(/^(\d{8}:(\d{4}-\d{8}:\d{4}|CLOSED);?)+$/);
    expect(details.get(2)![0]!.contract.conId).toBe(12087792);
    expect(details.get(3)![0]!.contract).toMatchObject({
      conId: 265598,
      primaryExch: 'NASDAQ',
      exchange: 'SMART',
    });
    expect(client.decodingErrors()).toEqual([]);
  });

  it('finds every EUR pair for a partial contract, as IB searches', async () => {
    const api = await connectApiNext(sim.port, 2);
    try {
      const found = await api.getContractDetails({ symbol: 'EUR', secType: forex('EUR.USD').secType });
      expect(found.map((detail) => detail.contract.localSymbol).sort()).toEqual([
        'EUR.CAD',
        'EUR.CHF',
        'EUR.GBP',
        'EUR.JPY',
        'EUR.USD',
      ]);
    } finally {
      api.disconnect();
    }
  });

  it('streams bid, ask and their sizes (BID_SIZE sent explicitly) that match the simulator quote, until cancelled', async () => {
    const prices = new Map<number, number>();
    const sizes = new Map<number, number>();
    let updates = 0;
    client.api.on(EventName.tickPrice, (reqId: number, type: number, price: number) => {
      if (reqId === 7) prices.set(type, price);
      updates += 1;
    });
    client.api.on(EventName.tickSize, (reqId: number, type?: number, size?: number) => {
      if (reqId === 7 && type !== undefined && size !== undefined) sizes.set(type, size);
    });
    client.api.reqMktData(7, forex('EUR.CAD'), '', false, false);
    await eventually(() => expect(updates).toBeGreaterThan(6));
    expect(sizes.get(TickType.bidSize)).toBeGreaterThan(0);
    expect(sizes.get(TickType.askSize)).toBeGreaterThan(0);
    expect(prices.get(TickType.ask)!).toBeGreaterThan(prices.get(TickType.bid)!);
    // The stream follows the simulator's own quote (at most a timer tick behind).
    expect(Math.abs(sim.quote('EUR.CAD')!.bid - prices.get(TickType.bid)!)).toBeLessThan(0.001);
    client.api.cancelMktData(7);
    // Let ticks already on the wire arrive, then nothing more may come.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const settled = updates;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(updates).toBe(settled);
  });

  it('sends last trade, volume and a snapshot end for a stock snapshot', async () => {
    const types = new Set<number>();
    const ends: number[] = [];
    client.api.on(EventName.tickPrice, (_reqId: number, type?: number) => types.add(type ?? -1));
    client.api.on(EventName.tickSize, (_reqId: number, type?: number) => types.add(type ?? -1));
    client.api.on(EventName.tickSnapshotEnd, (reqId: number) => ends.push(reqId));
    client.api.reqMktData(8, stock('AAPL'), '', true, false);
    await eventually(() => expect(ends).toEqual([8]));
    expect([...types]).toEqual(
      expect.arrayContaining([
        TickType.bid,
        TickType.ask,
        TickType.last,
        TickType.bidSize,
        TickType.askSize,
        TickType.lastSize,
        TickType.volume,
      ]),
    );
  });

  it('answers an unknown market data contract with 200 and a cancel of an unknown id with 300', async () => {
    client.api.reqMktData(9, stock('NOPE'), '', false, false);
    client.api.cancelMktData(10);
    await eventually(() => expect(client.errorCodes()).toEqual(expect.arrayContaining([200, 300])));
  });

  it('streams 5-second real-time bars every 5 simulated seconds that agree with the quotes', async () => {
    const bars: Array<{
      time: number;
      open: number;
      high: number;
      low: number;
      close: number;
      volume: number;
    }> = [];
    client.api.on(
      EventName.realtimeBar,
      (reqId: number, time: number, open: number, high: number, low: number, close: number, volume: number) =>
        bars.push({ time, open, high, low, close, volume }),
    );
    client.api.reqRealTimeBars(11, forex('EUR.CAD'), 5, 'MIDPOINT', false);
    await eventually(() => expect(bars.length).toBeGreaterThanOrEqual(3), { timeoutMs: 5_000 });
    client.api.cancelRealTimeBars(11);
    for (let i = 1; i < bars.length; i++) expect(bars[i]!.time - bars[i - 1]!.time).toBe(5);
    for (const bar of bars) {
      expect(bar.time % 5).toBe(0);
      expect(bar.high).toBeGreaterThanOrEqual(Math.max(bar.open, bar.close));
      expect(bar.low).toBeLessThanOrEqual(Math.min(bar.open, bar.close));
      expect(bar.volume).toBe(-1);
    }
  });
});
