import { join } from 'node:path';

import type { GatewaySim } from '@ibstack/gateway-sim';
import { createRegistry, type Registry } from '@ibstack/observability';
import { eventually, type SpawnedProcess, spawnTs } from '@ibstack/test-kit';

import type { IngestorService } from '../src';
import {
  bootService,
  createStack,
  destroyStack,
  ingestorEnvironment,
  metricValue,
  MINUTE,
  type Stack,
  startSim,
} from './support/harness';

const MAIN = join(__dirname, '..', 'src', 'main.ts');

// IB keeps counting historical requests across our restarts. The first ingestor (a real process) backfills
// in several requests and is killed without warning; the second, started against the same database with a
// pacing limit those requests already fill, must wait for them to leave the window instead of sending at
// once. The window is shrunk to 20 s so the test can see it pass.
describe('ingestor: pacing across a restart', () => {
  const WINDOW_MS = 20_000;
  const MARGIN_MS = 100;
  let sim: GatewaySim;
  let simRegistry: Registry;
  let stack: Stack;
  let child: SpawnedProcess | undefined;
  let service: IngestorService | undefined;

  beforeAll(async () => {
    simRegistry = createRegistry('gateway-sim', { defaultMetrics: false });
    sim = await startSim({ registry: simRegistry });
    stack = await createStack();
  });

  afterAll(async () => {
    await child?.kill('SIGKILL');
    await service?.stop();
    await sim?.close();
    await destroyStack(stack);
  });

  const pacing = {
    // Half-hour chunks: the 2.4-hour look-back takes several requests.
    BACKFILL_CHUNK_SECONDS: '1800',
    PACING_WINDOW_MS: String(WINDOW_MS),
    PACING_MARGIN_MS: String(MARGIN_MS),
  };

  async function requestsSeenBySimulator(): Promise<number> {
    const { values } = await simRegistry.getSingleMetric('gateway_sim_messages_received_total')!.get();
    return values.find((value) => value.labels.message === 'reqHistoricalData')?.value ?? 0;
  }

  async function storedRequests(): Promise<Array<{ at: number; signature: string }>> {
    const rows = await stack.db.db
      .selectFrom('history_requests')
      .select(['sent_at', 'signature'])
      .orderBy('sent_at')
      .execute();
    return rows.map((row) => ({ at: row.sent_at.getTime(), signature: row.signature }));
  }

  it('starts the limiter of a restarted ingestor from the requests the killed one sent', async () => {
    child = spawnTs(MAIN, [], ingestorEnvironment(sim, stack, { LOG_LEVEL: 'info', ...pacing }));
    await child.waitForLine('backfill finished', 20_000);
    // Each request is stored as it is sent, not at a clean stop: the rows are there before the kill.
    await eventually(async () => (await storedRequests()).length === (await requestsSeenBySimulator()), {
      timeoutMs: 2_000,
      intervalMs: 50,
    });
    await child.kill('SIGKILL');
    child = undefined;
    const sentBefore = await storedRequests();
    expect(sentBefore.length).toBeGreaterThanOrEqual(4);
    const simulatorCountBefore = await requestsSeenBySimulator();
    const oldest = sentBefore[0]!.at;
    // Down for more than a minute of market time, so the restart has a gap to fill at once.
    const killedAt = sim.now();
    await eventually(() => sim.now() - killedAt >= 2 * MINUTE, { timeoutMs: 5_000 });
    expect(Date.now()).toBeLessThan(oldest + WINDOW_MS - 5_000);

    // The limit is what the first run already sent within the window.
    const second = await bootService(sim, stack, {
      ...pacing,
      PACING_MAX_REQUESTS: String(sentBefore.length),
    });
    service = second;
    expect(await metricValue(second, 'md_pacing_restored_requests')).toBe(sentBefore.length);
    expect(await metricValue(second, 'md_pacing_recent_requests')).toBe(sentBefore.length);

    // It has a gap to fill, but holds the request back until the first run's oldest leaves the window …
    await eventually(async () => (await metricValue(second, 'md_pacing_waits_total')) >= 1, {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(await requestsSeenBySimulator()).toBe(simulatorCountBefore);
    // … and then sends it, and the gateway answers it.
    await eventually(async () => (await requestsSeenBySimulator()) > simulatorCountBefore, {
      timeoutMs: WINDOW_MS + 10_000,
      intervalMs: 50,
    });
    await eventually(
      async () => (await metricValue(second, 'md_backfill_requests_total', { result: 'ok' })) >= 1,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const sentAfter = (await storedRequests()).filter((request) => request.at > sentBefore.at(-1)!.at);
    expect(sentAfter.length).toBeGreaterThanOrEqual(1);
    expect(sentAfter[0]!.at).toBeGreaterThanOrEqual(oldest + WINDOW_MS + MARGIN_MS);
    expect(await metricValue(second, 'md_backfill_requests_total', { result: 'refused' })).toBe(0);
  }, 60_000);
});
