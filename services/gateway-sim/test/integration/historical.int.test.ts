import { BarSizeSetting, EventName, WhatToShow } from '@stoqey/ib';
import { createRegistry, type Registry } from '@ibstack/observability';
import { eventually } from '@ibstack/test-kit';
import { DateTime } from 'luxon';

import type { GatewaySim } from '../../src';
import {
  connectApiNext,
  connectClient,
  forex,
  type RecordingClient,
  startTestSim,
  stock,
} from '../support/harness';

interface ReceivedBar {
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

function collectHistory(client: RecordingClient) {
  const bars = new Map<number, ReceivedBar[]>();
  const finished = new Set<number>();
  client.api.on(
    EventName.historicalData,
    (reqId: number, date: string, open: number, high: number, low: number, close: number, volume: number) => {
      if (date.startsWith('finished')) finished.add(reqId);
      else bars.set(reqId, [...(bars.get(reqId) ?? []), { date, open, high, low, close, volume }]);
    },
  );
  return { bars, finished };
}

const utc = (epochMs: number) => DateTime.fromMillis(epochMs, { zone: 'UTC' }).toFormat('yyyyMMdd-HH:mm:ss');

describe.each([176, 193] as const)('historical data at server version %i', (serverVersion) => {
  let sim: GatewaySim;
  let client: RecordingClient;

  afterEach(async () => {
    client.disconnect();
    await sim.close();
  });

  it('returns 5-second bars equal to the real-time bars streamed live over the same interval', async () => {
    sim = await startTestSim({ serverVersion, speed: 120 });
    client = await connectClient(sim, 1);
    const live: Array<{ time: number; open: number; high: number; low: number; close: number }> = [];
    client.api.on(
      EventName.realtimeBar,
      (_reqId: number, time: number, open: number, high: number, low: number, close: number) =>
        live.push({ time, open, high, low, close }),
    );
    client.api.reqRealTimeBars(1, forex('EUR.CAD'), 5, WhatToShow.MIDPOINT, false);
    await eventually(() => expect(live.length).toBeGreaterThanOrEqual(6), { timeoutMs: 5_000 });
    client.api.cancelRealTimeBars(1);
    const { bars, finished } = collectHistory(client);
    const end = (live[live.length - 1]!.time + 5) * 1000;
    client.api.reqHistoricalData(
      2,
      forex('EUR.CAD'),
      utc(end),
      '60 S',
      BarSizeSetting.SECONDS_FIVE,
      WhatToShow.MIDPOINT,
      0,
      2,
      false,
    );
    await eventually(() => expect(finished.has(2)).toBe(true));
    const history = new Map(bars.get(2)!.map((bar) => [Number(bar.date), bar]));
    // The 60 seconds asked for hold the last 12 live bars; a loaded machine may have streamed more, and
    // bars already on the wire when the stream was cancelled arrive after `end` was taken.
    const inWindow = live.filter((bar) => bar.time * 1000 >= end - 60_000 && bar.time * 1000 < end);
    expect(inWindow.length).toBeGreaterThanOrEqual(6);
    for (const bar of inWindow) {
      expect(history.get(bar.time)).toMatchObject({
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
      });
    }
    expect(client.decodingErrors()).toEqual([]);
  });

  it('serves IBApiNext.getHistoricalData: stock trades in regular hours only, dates in the instrument zone', async () => {
    sim = await startTestSim({ serverVersion, marketHours: 'forex' });
    client = await connectClient(sim, 1);
    const api = await connectApiNext(sim.port, 2);
    try {
      // "1 D" is the calendar day before the end (just after Tuesday 10:00 New York): Monday from 10:05 to
      // the close at 16:00, then Tuesday from the 09:30 open to the bar in progress.
      const bars = await api.getHistoricalData(
        stock('AAPL'),
        '',
        '1 D',
        BarSizeSetting.MINUTES_FIVE,
        WhatToShow.TRADES,
        1,
        1,
      );
      const times = bars.map((bar) => bar.time);
      expect(times).toHaveLength(71 + 7);
      expect(times[0]).toBe('20260302 10:05:00 US/Eastern');
      expect(times[70]).toBe('20260302 15:55:00 US/Eastern');
      expect(times[71]).toBe('20260303 09:30:00 US/Eastern');
      expect(times[77]).toBe('20260303 10:00:00 US/Eastern');
      for (const bar of bars) {
        expect(bar.volume).toBeGreaterThan(0);
        expect(bar.high).toBeGreaterThanOrEqual(bar.low!);
      }
      // Forex days run 17:00 to 17:00 New York and carry the date they end on; the weekend has none.
      const daily = await api.getHistoricalData(
        forex('EUR.USD'),
        '',
        '5 D',
        BarSizeSetting.DAYS_ONE,
        WhatToShow.MIDPOINT,
        0,
        1,
      );
      expect(daily.map((bar) => bar.time)).toEqual(['20260227', '20260302', '20260303']);
    } finally {
      api.disconnect();
    }
  });

  it('answers combinations IB refuses with 162 and a closed window with no data', async () => {
    sim = await startTestSim({ serverVersion, marketHours: 'forex', startTime: '2026-03-07T17:00:00Z' });
    client = await connectClient(sim, 1);
    client.api.reqHistoricalData(
      1,
      forex('EUR.CAD'),
      '',
      '3600 S',
      BarSizeSetting.SECONDS_ONE,
      WhatToShow.MIDPOINT,
      0,
      1,
      false,
    );
    client.api.reqHistoricalData(
      2,
      forex('EUR.CAD'),
      '',
      '1 D',
      BarSizeSetting.MINUTES_FIVE,
      WhatToShow.TRADES,
      0,
      1,
      false,
    );
    client.api.reqHistoricalData(
      3,
      forex('EUR.CAD'),
      '',
      '3600 S',
      BarSizeSetting.MINUTES_ONE,
      WhatToShow.MIDPOINT,
      0,
      1,
      false,
    );
    await eventually(() => expect(client.errors.map((error) => error.id).sort()).toEqual([1, 2, 3]));
    const byId = new Map(client.errors.map((error) => [error.id, error]));
    expect(byId.get(1)).toEqual({
      id: 1,
      code: 162,
      message: 'Historical Market Data Service error message:Time length exceed max.',
    });
    expect(byId.get(2)?.code).toBe(162);
    expect(byId.get(2)?.message).toMatch(
      /^Historical Market Data Service error message:No historical market data for EUR\/CASH@IDEALPRO Last/,
    );
    expect(byId.get(3)).toEqual({
      id: 3,
      code: 162,
      message:
        'Historical Market Data Service error message:HMDS query returned no data: EUR.CAD@IDEALPRO Midpoint',
    });
  });

  it('keeps a bar up to date with updates until the request is cancelled', async () => {
    sim = await startTestSim({ serverVersion, speed: 60 });
    client = await connectClient(sim, 1);
    const updates: Array<{ date: string; close: number }> = [];
    client.api.on(
      EventName.historicalDataUpdate,
      (_reqId: number, date: string, _open: number, _high: number, _low: number, close: number) =>
        updates.push({ date, close }),
    );
    const { finished } = collectHistory(client);
    client.api.reqHistoricalData(
      4,
      forex('EUR.USD'),
      '',
      '1800 S',
      BarSizeSetting.MINUTES_ONE,
      WhatToShow.MIDPOINT,
      0,
      2,
      true,
    );
    await eventually(() => expect(finished.has(4)).toBe(true));
    await eventually(
      () => expect(new Set(updates.map((update) => update.date)).size).toBeGreaterThanOrEqual(2),
      { timeoutMs: 5_000 },
    );
    client.api.cancelHistoricalData(4);
    await eventually(() =>
      expect(client.errors).toContainEqual({
        id: 4,
        code: 162,
        message: 'Historical Market Data Service error message:API historical data query cancelled: 4',
      }),
    );
  });
});

describe('historical data pacing', () => {
  let sim: GatewaySim;
  let client: RecordingClient;

  afterEach(async () => {
    client.disconnect();
    await sim.close();
  });

  const request = (reqId: number, duration: string) =>
    client.api.reqHistoricalData(
      reqId,
      forex('EUR.CAD'),
      '',
      duration,
      BarSizeSetting.MINUTES_ONE,
      WhatToShow.MIDPOINT,
      0,
      1,
      false,
    );

  it('refuses an identical request within 15 seconds and a sixth request for the series within 2 seconds', async () => {
    sim = await startTestSim();
    client = await connectClient(sim, 1);
    const { finished } = collectHistory(client);
    request(1, '600 S');
    await eventually(() => expect(finished.has(1)).toBe(true));
    request(2, '600 S');
    await eventually(() =>
      expect(client.errors).toContainEqual({
        id: 2,
        code: 162,
        message: 'Historical Market Data Service error message:Historical data request pacing violation',
      }),
    );
    for (const [reqId, seconds] of [
      [3, 660],
      [4, 720],
      [5, 780],
      [6, 840],
    ] as const)
      request(reqId, `${seconds} S`);
    await eventually(() => expect([3, 4, 5, 6].every((id) => finished.has(id))).toBe(true));
    request(7, '900 S');
    await eventually(() => expect(client.errors.map((error) => error.id)).toContain(7));
    expect(client.errors.find((error) => error.id === 7)?.code).toBe(162);
  });

  it('serves every request when pacing is switched off', async () => {
    sim = await startTestSim({ pacing: false });
    client = await connectClient(sim, 1);
    const { finished } = collectHistory(client);
    for (let reqId = 1; reqId <= 8; reqId++) request(reqId, '600 S');
    await eventually(() => expect(finished.size).toBe(8));
    expect(client.errors).toEqual([]);
  });
});

describe('a long historical request', () => {
  let sim: GatewaySim;
  const clients: RecordingClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await sim.close();
  });

  async function received(registry: Registry, message: string): Promise<number> {
    const metric = await registry.getSingleMetric('gateway_sim_messages_received_total')?.get();
    return metric?.values.find((value) => value.labels.message === message)?.value ?? 0;
  }

  it('keeps answering other clients while 30 years of daily bars are computed', async () => {
    const registry = createRegistry('test', { defaultMetrics: false });
    sim = await startTestSim({ registry, marketHours: 'forex' });
    const big = await connectClient(sim, 1);
    const other = await connectClient(sim, 2);
    clients.push(big, other);
    const { bars, finished } = collectHistory(big);
    const times: number[] = [];
    other.api.on(EventName.currentTime, (time: number) => times.push(time));
    big.api.reqHistoricalData(
      1,
      forex('EUR.CAD'),
      '',
      '30 Y',
      BarSizeSetting.DAYS_ONE,
      WhatToShow.MIDPOINT,
      0,
      2,
      false,
    );
    // Once the simulator has read the big request, another client asks for the time: the answer must
    // not wait for the bars.
    await eventually(async () => expect(await received(registry, 'reqHistoricalData')).toBe(1));
    other.api.reqCurrentTime();
    await eventually(() => expect(times).toHaveLength(1), { timeoutMs: 30_000 });
    expect(finished.has(1)).toBe(false);
    await eventually(() => expect(finished.has(1)).toBe(true), { timeoutMs: 60_000 });
    expect(bars.get(1)!.length).toBeGreaterThan(7_500);
    expect(big.errors).toEqual([]);
  }, 90_000);
});
