import type { GatewaySim } from '@ibstack/gateway-sim';
import { eventually } from '@ibstack/test-kit';

import type { IngestorService } from '../src';
import {
  bootService,
  createStack,
  destroyStack,
  metricValue,
  MINUTE,
  type Stack,
  startSim,
  storedBars,
  waitForSeriesThrough,
} from './support/harness';

// Two holes less than a day apart share one historical request after a restart; the stored bars between
// them come back in the answer and must not go out on md.bar.* again. JetStream's duplicate window (2 real
// minutes) would hide a second publication in a test this short, so the test counts what the ingestor
// published, not what the stream kept.
describe('ingestor: restart with holes in the stored series', () => {
  let sim: GatewaySim;
  let stack: Stack;
  let service: IngestorService | undefined;

  beforeAll(async () => {
    sim = await startSim();
    stack = await createStack();
  });

  afterAll(async () => {
    await service?.stop();
    await sim?.close();
    await destroyStack(stack);
  });

  it('publishes only the missing minutes, never the stored bars between two holes', async () => {
    const first = await bootService(sim, stack);
    service = first;
    await eventually(
      async () => (await metricValue(first, 'md_backfill_progress_ratio', { instrument: 'EURCAD' })) === 1,
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    await waitForSeriesThrough(stack, 'EURCAD', first.gatewayNow() - 2 * MINUTE);
    await first.settle();
    await first.stop();
    service = undefined;

    const before = await storedBars(stack.db, 'EURCAD');
    const oldest = before[0]!.ts;
    const holes = [10, 11, 40, 41].map((minute) => oldest + minute * MINUTE);
    await stack.db.db
      .deleteFrom('bars')
      .where('instrument', '=', 'EURCAD')
      .where('timeframe', '=', '1m')
      .where(
        'ts',
        'in',
        holes.map((ts) => new Date(ts)),
      )
      .execute();
    // Without the coverage rows the holes are unanswered minutes again.
    await stack.db.db.deleteFrom('bar_coverage').where('instrument', '=', 'EURCAD').execute();
    const stoppedAt = sim.now();
    // Down for more than the stream's duplicate window in market time.
    await eventually(() => sim.now() - stoppedAt >= 3 * MINUTE, { timeoutMs: 10_000 });

    const second = await bootService(sim, stack);
    service = second;
    const restartedAt = sim.now();
    await waitForSeriesThrough(stack, 'EURCAD', restartedAt);
    await eventually(
      async () => (await metricValue(second, 'md_backfill_progress_ratio', { instrument: 'EURCAD' })) === 1,
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    await second.settle();

    const after = (await storedBars(stack.db, 'EURCAD')).map((bar) => bar.ts);
    for (const hole of holes) expect(after).toContain(hole);
    const backfilled = await metricValue(second, 'md_bars_total', {
      instrument: 'EURCAD',
      timeframe: '1m',
      source: 'backfill',
    });
    // The four hole minutes and the minutes of the downtime; not the ~30 stored between the holes.
    const downtimeMinutes = Math.ceil((restartedAt - stoppedAt) / MINUTE) + 2;
    expect(backfilled).toBeGreaterThanOrEqual(holes.length);
    expect(backfilled).toBeLessThanOrEqual(holes.length + downtimeMinutes);
    // Only the hole bars (deleted here after the first process published them) can be duplicates.
    expect(await metricValue(second, 'bus_publish_duplicates_total', { topic: 'bar' })).toBeLessThanOrEqual(
      holes.length,
    );
  });
});
