import { subjects } from '@ibstack/contracts';
import type { GatewaySim } from '@ibstack/gateway-sim';
import { eventually } from '@ibstack/test-kit';

import type { IngestorService } from '../src';
import {
  asNumbers,
  bootService,
  createStack,
  destroyStack,
  duplicates,
  forexContract,
  metricValue,
  MINUTE,
  missingMinutes,
  normaliseVolume,
  parseBar,
  parseSystemEvent,
  parseTick,
  simHistory,
  type Stack,
  startSim,
  stockContract,
  storedBars,
  streamMessages,
  TUESDAY_MORNING,
} from './support/harness';

describe('ingestor: gateway to JetStream and Postgres', () => {
  let sim: GatewaySim;
  let stack: Stack;
  let service: IngestorService;
  const lookbackMs = 0.1 * 86_400_000;

  // The look-back is counted from the gateway's clock when the repair runs, some simulated minutes after
  // the start on a loaded machine: its first minute lies between these two.
  let earliestFrom: number;
  let latestFrom: number;

  beforeAll(async () => {
    stack = await createStack();
    sim = await startSim();
    earliestFrom = Math.floor((sim.now() - lookbackMs) / MINUTE) * MINUTE;
    service = await bootService(sim, stack, {
      INSTRUMENTS: 'EUR.CAD,AAPL,XXX.YYY',
      TIMEFRAMES: '1m,5m',
      STORE_TICKS: 'EUR.CAD',
      BACKFILL_DAYS: '0.1',
    });
    // A few live minutes after the backfill: at speed 60 a market minute passes every wall second.
    await eventually(
      async () => {
        const live = (await storedBars(stack.db, 'EURCAD')).filter((bar) => bar.source === 'live');
        const stocks = (await storedBars(stack.db, 'AAPL')).filter((bar) => bar.source === 'live');
        return live.length >= 4 && stocks.length >= 4;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    await service.settle();
    latestFrom = sim.now() - lookbackMs;
  }, 90_000);

  afterAll(async () => {
    await service?.stop();
    await sim?.close();
    await destroyStack(stack);
  });

  it('stores the forex series, backfilled and live, equal to the gateway’s own MIDPOINT bars', async () => {
    const bars = await storedBars(stack.db, 'EURCAD');
    const first = bars[0]!.ts;
    const end = bars[bars.length - 1]!.ts + MINUTE;
    // The look-back reaches back BACKFILL_DAYS from the start, by the gateway's clock.
    expect(first).toBeGreaterThanOrEqual(earliestFrom);
    expect(first).toBeLessThanOrEqual(latestFrom);
    expect(bars.some((bar) => bar.source === 'backfill')).toBe(true);
    expect(bars.some((bar) => bar.source === 'live')).toBe(true);
    expect(
      missingMinutes(
        bars.map((bar) => bar.ts),
        first,
        end,
      ),
    ).toEqual([]);
    const expected = await simHistory(sim, forexContract('EUR.CAD'), { start: first, end });
    expect(asNumbers(bars)).toEqual(normaliseVolume(expected));
  });

  it('stores stock bars from TRADES, volume included, equal to the gateway’s history', async () => {
    const bars = await storedBars(stack.db, 'AAPL');
    const first = bars[0]!.ts;
    const end = bars[bars.length - 1]!.ts + MINUTE;
    expect(
      missingMinutes(
        bars.map((bar) => bar.ts),
        first,
        end,
      ),
    ).toEqual([]);
    const expected = await simHistory(sim, stockContract('AAPL'), {
      start: first,
      end,
      whatToShow: 'TRADES',
    });
    expect(expected.every((bar) => bar.volume > 0)).toBe(true);
    expect(asNumbers(bars)).toEqual(expected);
  });

  it('builds 5-minute bars that aggregate the gateway’s 1-minute bars exactly', async () => {
    const bars = await storedBars(stack.db, 'EURCAD', '5m');
    expect(bars.length).toBeGreaterThanOrEqual(20);
    const first = bars[0]!.ts;
    const end = bars[bars.length - 1]!.ts + 5 * MINUTE;
    const minutes = await simHistory(sim, forexContract('EUR.CAD'), { start: first, end });
    const expected = bars.map((bar) => {
      const parts = minutes.filter((minute) => minute.ts >= bar.ts && minute.ts < bar.ts + 5 * MINUTE);
      return {
        ts: bar.ts,
        open: parts[0]!.open,
        high: Math.max(...parts.map((part) => part.high)),
        low: Math.min(...parts.map((part) => part.low)),
        close: parts[parts.length - 1]!.close,
        volume: 0,
      };
    });
    expect(asNumbers(bars)).toEqual(expected);
    // The simulator's own 5-minute bars come from the same per-second series: ours must equal them.
    const simFive = await simHistory(sim, forexContract('EUR.CAD'), { start: first, end, barSize: '5 mins' });
    expect(simFive.map((bar) => [bar.ts, bar.open, bar.high, bar.low, bar.close])).toEqual(
      expected.map((bar) => [bar.ts, bar.open, bar.high, bar.low, bar.close]),
    );
  });

  it('publishes every stored bar exactly once on md.bar.<sym>.<tf>', async () => {
    for (const timeframe of ['1m', '5m'] as const) {
      // The service keeps running: read what was published, let the write queue drain, then compare.
      const published = await streamMessages(stack.bus, subjects.bar('EURCAD', timeframe), parseBar);
      const times = published.map((bar) => Date.parse(bar.ts));
      await service.settle();
      const newest = Math.max(...times);
      const stored = (await storedBars(stack.db, 'EURCAD', timeframe)).filter((bar) => bar.ts <= newest);
      expect(duplicates(times)).toEqual([]);
      expect(new Set(times)).toEqual(new Set(stored.map((bar) => bar.ts)));
      const first = published.find((bar) => Date.parse(bar.ts) === stored[0]!.ts)!;
      expect(first.close).toBe(stored[0]!.close);
    }
  });

  it('publishes ticks on md.tick.<sym> and stores them only for STORE_TICKS instruments', async () => {
    const ticks = await streamMessages(stack.bus, subjects.tick('EURCAD'), parseTick);
    expect(ticks.length).toBeGreaterThan(5);
    // Venue time is the gateway's clock (ahead of ours at speed 60), and it never goes back.
    const times = ticks.map((tick) => Date.parse(tick.ts));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(Date.parse(TUESDAY_MORNING));
    expect(ticks.every((tick) => tick.bid !== undefined && tick.ask !== undefined)).toBe(true);
    const stored = await stack.db.db.selectFrom('ticks').select(['instrument', 'bid', 'ask']).execute();
    expect(stored.length).toBeGreaterThan(0);
    expect(new Set(stored.map((row) => row.instrument))).toEqual(new Set(['EURCAD']));
    expect(await metricValue(service, 'md_ticks_total', { instrument: 'EURCAD' })).toBeGreaterThan(5);
    expect(await metricValue(service, 'md_last_tick_unix', { instrument: 'EURCAD' })).toBeGreaterThan(0);
  });

  it('records the resolved contracts with their hours in the instruments table', async () => {
    const rows = await stack.db.db.selectFrom('instruments').selectAll().orderBy('instrument').execute();
    expect(rows.map((row) => row.instrument)).toEqual(['AAPL', 'EURCAD']);
    const eurcad = rows.find((row) => row.instrument === 'EURCAD')!;
    expect(eurcad).toMatchObject({
      sec_type: 'CASH',
      exchange: 'IDEALPRO',
      currency: 'CAD',
      time_zone: 'US/Eastern',
    });
    expect(Number(eurcad.con_id)).toBeGreaterThan(0);
    expect(Number(eurcad.min_tick)).toBe(0.00005);
    expect(eurcad.trading_hours).toMatch(/^\d{8}:\d{4}-\d{8}:\d{4}/);
    expect(eurcad.liquid_hours).toBeTruthy();
  });

  it('reports an unknown instrument (log, metric, sys event) while the others go on', async () => {
    const events = await streamMessages(stack.bus, subjects.systemEvent('ingestor'), parseSystemEvent);
    const unknown = events.filter((event) => event.code === 'unknown_instrument');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ severity: 'warning', detail: { instrument: 'XXX.YYY', ibCode: 200 } });
    expect(await metricValue(service, 'md_unknown_instruments_total', { instrument: 'XXXYYY' })).toBe(1);
    expect(service.status().XXXYYY).toMatchObject({ resolved: false, subscribed: false });
    expect(service.status().EURCAD).toMatchObject({ resolved: true, subscribed: true, marketOpen: true });
  });

  it('is ready with gateway, NATS and Postgres up, shows market hours and backfill progress, and announces the gateway', async () => {
    const response = await fetch(`${service.healthUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ready: true,
      checks: { gateway: true, nats: true, postgres: true },
    });
    expect(await metricValue(service, 'md_market_open', { instrument: 'EURCAD' })).toBe(1);
    expect(await metricValue(service, 'md_backfill_progress_ratio', { instrument: 'EURCAD' })).toBe(1);
    expect(
      await metricValue(service, 'md_backfill_requests_total', { instrument: 'EURCAD', result: 'ok' }),
    ).toBeGreaterThan(0);
    const metricsText = await (await fetch(`${service.healthUrl}/metrics`)).text();
    expect(metricsText).toContain('md_bars_total{instrument="EURCAD",timeframe="1m",source="live"');
    const statuses = await streamMessages(
      stack.bus,
      subjects.gatewayStatus(),
      (value) => value as { state: string; service: string },
    );
    expect(statuses.some((status) => status.service === 'ingestor' && status.state === 'connected')).toBe(
      true,
    );
  });
});
