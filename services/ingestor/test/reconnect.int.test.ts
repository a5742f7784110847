import type { GatewaySim } from '@ibstack/gateway-sim';
import { eventually } from '@ibstack/test-kit';

import type { IngestorService } from '../src';
import {
  bootService,
  checkSeries,
  createStack,
  destroyStack,
  forexContract,
  metricValue,
  MINUTE,
  type Stack,
  startSim,
  waitForSeriesThrough,
} from './support/harness';

// One simulator and one ingestor through a backfill cut by a disconnect, a dropped connection while live,
// and IB's daily reset; after each, the stored series must have no hole and no bar twice.
describe('ingestor: reconnects and gap repair', () => {
  let sim: GatewaySim;
  let stack: Stack;
  let service: IngestorService;
  const contract = forexContract('EUR.CAD');
  const backfillDays = 0.25;

  beforeAll(async () => {
    sim = await startSim();
    stack = await createStack();
  });

  afterAll(async () => {
    await service?.stop();
    await sim?.close();
    await destroyStack(stack);
  });

  async function expectWholeSeries(): Promise<void> {
    const series = await checkSeries(sim, stack, 'EURCAD', contract);
    expect(series.missing).toEqual([]);
    expect(series.republished).toEqual([]);
    expect(series.stored).toEqual(series.expected);
  }

  it('resumes a backfill cut by a disconnect where it stopped: no chunk lost, none fetched twice', async () => {
    service = await bootService(sim, stack, {
      BACKFILL_DAYS: String(backfillDays),
      // Hour-long chunks, and stricter pacing than IB's (one request per contract every 0.6 s), so the
      // disconnect lands between chunks.
      PACING_SAME_CONTRACT_MAX_REQUESTS: '1',
      PACING_SAME_CONTRACT_WINDOW_MS: '600',
      BACKFILL_CHUNK_SECONDS: '3600',
    });
    await eventually(
      async () =>
        (await metricValue(service, 'md_backfill_requests_total', { instrument: 'EURCAD', result: 'ok' })) >=
        1,
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const progressAtDrop = await metricValue(service, 'md_backfill_progress_ratio', { instrument: 'EURCAD' });
    expect(progressAtDrop).toBeLessThan(1);
    sim.faults.refuseConnections(1_000);
    sim.faults.dropAllConnections();
    await eventually(async () => (await metricValue(service, 'ib_reconnect_total')) >= 1, {
      timeoutMs: 10_000,
    });
    await waitForSeriesThrough(stack, 'EURCAD', service.gatewayNow() - 2 * MINUTE);
    await service.settle();
    // The look-back window slides with the gateway's clock; the series reaches back at least that far.
    const start = service.gatewayNow() - backfillDays * 86_400_000;
    const series = await checkSeries(sim, stack, 'EURCAD', contract);
    expect(series.first).toBeLessThanOrEqual(start);
    expect(series.missing).toEqual([]);
    expect(series.republished).toEqual([]);
    expect(series.stored).toEqual(series.expected);
    // Every historical minute arrived once: a chunk fetched again would add up to 60 more.
    const fetched = await metricValue(service, 'md_backfill_bars_total', { instrument: 'EURCAD' });
    expect(fetched).toBeLessThanOrEqual((series.last - series.first) / MINUTE + 1);
  });

  it('fills the minute of market lost while the gateway connection was down', async () => {
    const gapRepairs = async () => {
      const values = (await service.registry.getSingleMetric('md_gap_repairs_total')?.get())?.values ?? [];
      return values.reduce((sum, sample) => sum + sample.value, 0);
    };
    const repairsBefore = await gapRepairs();
    const before = service.gatewayNow();
    const reconnects = await metricValue(service, 'ib_reconnect_total');
    const requests = await metricValue(service, 'md_backfill_requests_total', {
      instrument: 'EURCAD',
      result: 'ok',
    });
    // A minute of market time at speed 60.
    sim.faults.refuseConnections(1_000);
    sim.faults.dropAllConnections();
    await eventually(async () => (await metricValue(service, 'ib_reconnect_total')) > reconnects, {
      timeoutMs: 10_000,
    });
    expect(sim.now() - before).toBeGreaterThanOrEqual(MINUTE);
    await waitForSeriesThrough(stack, 'EURCAD', sim.now() - 2 * MINUTE);
    await service.settle();
    await expectWholeSeries();
    // The hole was filled from history, not by chance from live data.
    const after = await metricValue(service, 'md_backfill_requests_total', {
      instrument: 'EURCAD',
      result: 'ok',
    });
    expect(after).toBeGreaterThan(requests);
    // ... and counted as a repaired gap.
    expect(await gapRepairs()).toBeGreaterThan(repairsBefore);
  });

  it('fills the gap of IB’s daily reset (1100, then 1102) without a reconnect', async () => {
    const reconnects = await metricValue(service, 'ib_reconnect_total');
    await sim.faults.dailyReset({ downMs: 1_500 });
    await waitForSeriesThrough(stack, 'EURCAD', sim.now() - MINUTE);
    await service.settle();
    await expectWholeSeries();
    expect(await metricValue(service, 'ib_reconnect_total')).toBe(reconnects);
    expect(await metricValue(service, 'ib_broker_connectivity_up')).toBe(1);
  });
});
