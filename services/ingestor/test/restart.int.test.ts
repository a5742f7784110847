import { join } from 'node:path';

import { subjects } from '@ibstack/contracts';
import type { GatewaySim } from '@ibstack/gateway-sim';
import { eventually, spawnTs, type SpawnedProcess } from '@ibstack/test-kit';

import {
  checkSeries,
  createStack,
  destroyStack,
  forexContract,
  ingestorEnvironment,
  MINUTE,
  parseBar,
  type Stack,
  startSim,
  storedBars,
  streamMessages,
  waitForSeriesThrough,
} from './support/harness';

const MAIN = join(__dirname, '..', 'src', 'main.ts');

// The ingestor as a real process (main.ts through tsx), killed without warning and started again.
describe('ingestor: restart', () => {
  let sim: GatewaySim;
  let stack: Stack;
  let child: SpawnedProcess | undefined;
  const contract = forexContract('EUR.CAD');

  beforeAll(async () => {
    sim = await startSim();
    stack = await createStack();
  });

  afterEach(async () => {
    await child?.kill('SIGKILL');
    child = undefined;
  });

  afterAll(async () => {
    await sim?.close();
    await destroyStack(stack);
  });

  function spawnIngestor(overrides: Record<string, string> = {}): SpawnedProcess {
    return spawnTs(MAIN, [], ingestorEnvironment(sim, stack, { LOG_LEVEL: 'info', ...overrides }));
  }

  async function liveBarsAfter(time: number): Promise<number> {
    return (await storedBars(stack.db, 'EURCAD')).filter((bar) => bar.source === 'live' && bar.ts >= time)
      .length;
  }

  it('fills the gap left by a SIGKILL after it starts again: no hole, no bar twice', async () => {
    child = spawnIngestor();
    await child.waitForLine('backfill finished', 20_000);
    const firstStart = sim.now();
    await eventually(async () => (await liveBarsAfter(firstStart)) >= 2, {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await child.kill('SIGKILL');
    const killedAt = sim.now();
    // Down for more than a minute of market time.
    await eventually(() => sim.now() - killedAt >= 2 * MINUTE, { timeoutMs: 5_000 });

    child = spawnIngestor();
    await child.waitForLine('backfill finished', 20_000);
    const restartedAt = sim.now();
    await eventually(async () => (await liveBarsAfter(restartedAt)) >= 2, {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    await waitForSeriesThrough(stack, 'EURCAD', restartedAt + MINUTE);

    const series = await checkSeries(sim, stack, 'EURCAD', contract);
    expect(series.missing).toEqual([]);
    expect(series.republished).toEqual([]);
    expect(series.stored).toEqual(series.expected);
    // The minutes the process was down for came from history.
    const bars = await storedBars(stack.db, 'EURCAD');
    const downtime = bars.filter((bar) => bar.ts >= killedAt && bar.ts < restartedAt - MINUTE);
    expect(downtime.length).toBeGreaterThan(0);
    expect(downtime.every((bar) => bar.source === 'backfill')).toBe(true);
  });

  it('writes the pending bar batch on SIGTERM before it exits', async () => {
    // A batch that would otherwise wait a minute: only the stop can write it.
    child = spawnIngestor({ BAR_FLUSH_INTERVAL_MS: '60000', BAR_BATCH_SIZE: '10000' });
    await child.waitForLine('ingestor started', 20_000);
    const startedAt = sim.now();
    await eventually(
      async () => {
        const published = await streamMessages(stack.bus, subjects.bar('EURCAD', '1m'), parseBar);
        return (
          published.filter((bar) => bar.source === 'live' && Date.parse(bar.ts) >= startedAt).length >= 3
        );
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    child.child.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    child = undefined;
    const published = await streamMessages(stack.bus, subjects.bar('EURCAD', '1m'), parseBar);
    const stored = new Set((await storedBars(stack.db, 'EURCAD')).map((bar) => bar.ts));
    const unstored = published.filter((bar) => !stored.has(Date.parse(bar.ts)));
    expect(unstored).toEqual([]);
  });
});
