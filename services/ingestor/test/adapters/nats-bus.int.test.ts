import { type Bar, subjects } from '@ibstack/contracts';
import { createRegistry } from '@ibstack/observability';
import { createTestBus, eventually, silentLogger, type TestBus } from '@ibstack/test-kit';

import { MarketDataBus } from '../../src/adapters/nats-bus';
import { ingestorMetrics } from '../../src/metrics';
import { parseBar, streamMessages } from '../support/harness';

const bar = (minute: number): Bar => ({
  v: 1,
  instrument: 'EURCAD',
  timeframe: '1m',
  ts: new Date(Date.parse('2026-11-24T15:00:00.000Z') + minute * 60_000).toISOString(),
  open: '1.4823',
  high: '1.4825',
  low: '1.482',
  close: '1.4824',
  volume: '0',
  source: 'live',
  receivedAt: '2026-11-24T15:01:00.000Z',
});

// A bar JetStream does not take (here: the MD stream is gone) is stored already, so it is sent again until
// it gets through, within a bound.
describe('market-data bus: bars that fail to publish', () => {
  let testBus: TestBus;
  let bus: MarketDataBus | undefined;

  beforeEach(async () => {
    testBus = await createTestBus();
  });

  afterEach(async () => {
    await bus?.close();
    await testBus.destroy();
  });

  async function connect(options: { maxBarRetries?: number } = {}) {
    const metrics = ingestorMetrics(createRegistry('ingestor', { defaultMetrics: false }));
    bus = await MarketDataBus.connect({
      url: process.env.NATS_URL || 'nats://127.0.0.1:4222',
      namespace: testBus.namespace,
      logger: silentLogger(),
      registry: createRegistry('ingestor-bus', { defaultMetrics: false }),
      metrics,
      barRetryDelayMs: 100,
      ...options,
    });
    return bus;
  }

  async function dropMdStream(): Promise<void> {
    await testBus.bus.jsm.streams.delete(testBus.bus.namespace.stream('MD'));
  }

  it('sends a failed bar again once JetStream is back, under the same message id', async () => {
    const active = await connect();
    await dropMdStream();
    expect(await active.publishBar(bar(0))).toBe(false);
    expect(active.pendingBarRetries).toBe(1);
    await testBus.bus.ensureStreams();
    await eventually(() => active.pendingBarRetries === 0, { timeoutMs: 10_000, intervalMs: 50 });
    const published = await streamMessages(testBus, subjects.bar('EURCAD', '1m'), parseBar);
    expect(published).toEqual([bar(0)]);
  });

  it('keeps at most maxBarRetries failed bars, giving up the oldest', async () => {
    const active = await connect({ maxBarRetries: 2 });
    await dropMdStream();
    for (const minute of [0, 1, 2]) expect(await active.publishBar(bar(minute))).toBe(false);
    expect(active.pendingBarRetries).toBe(2);
    await testBus.bus.ensureStreams();
    await eventually(() => active.pendingBarRetries === 0, { timeoutMs: 10_000, intervalMs: 50 });
    const published = await streamMessages(testBus, subjects.bar('EURCAD', '1m'), parseBar);
    expect(published.map((message) => message.ts)).toEqual([bar(1).ts, bar(2).ts]);
  });
});
