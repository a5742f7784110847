import { parseInstrumentSpec, subjects } from '@ibstack/contracts';
import { IbConnection } from '@ibstack/ib';
import { createRegistry, type Registry } from '@ibstack/observability';
import { eventually, silentLogger } from '@ibstack/test-kit';

import { IbMarketData } from '../src/adapters/ib-market-data';
import { MarketDataBus } from '../src/adapters/nats-bus';
import { type BarRow, PgBarStore } from '../src/adapters/pg-bars';
import { BatchWriter } from '../src/batch-writer';
import { GatewayClock } from '../src/domain/gateway-clock';
import { TickField } from '../src/domain/validation';
import { InstrumentFeed } from '../src/feed';
import { ingestorMetrics, type IngestorMetrics } from '../src/metrics';
import {
  createStack,
  destroyStack,
  MINUTE,
  parseBar,
  parseTick,
  type Stack,
  storedBars,
  streamMessages,
} from './support/harness';

const T0 = Date.parse('2026-11-24T15:00:00.000Z');

// Bad data straight into one instrument's feed, with the real bus and database behind it: whatever fails
// validation is counted and logged, and never reaches JetStream or Postgres.
describe('ingestor: bad market data', () => {
  let stack: Stack;
  let registry: Registry;
  let metrics: IngestorMetrics;
  let bus: MarketDataBus;
  let store: PgBarStore;
  let writer: BatchWriter<BarRow>;
  let feed: InstrumentFeed;
  const clock = new GatewayClock({ wallClock: () => T0 + 10 * MINUTE });

  beforeAll(async () => {
    stack = await createStack();
    registry = createRegistry('ingestor', { defaultMetrics: false });
    metrics = ingestorMetrics(registry);
    bus = await MarketDataBus.connect({
      url: process.env.NATS_URL || 'nats://127.0.0.1:4222',
      namespace: stack.bus.namespace,
      logger: silentLogger(),
      registry,
      metrics,
    });
    store = await PgBarStore.connect(stack.db.url, 'auto');
    writer = new BatchWriter<BarRow>({
      name: 'bars',
      batchSize: 100,
      flushIntervalMs: 10,
      limit: 1_000,
      logger: silentLogger(),
      write: async (rows) => void (await store.writeBars(rows)),
    });
    // A connection that is never started: the feed is driven directly.
    const connection = new IbConnection({
      host: '127.0.0.1',
      port: 1,
      clientId: 1,
      logger: silentLogger(),
      registry,
    });
    feed = new InstrumentFeed(
      parseInstrumentSpec('EUR.CAD'),
      {
        clock,
        wallClock: Date.now,
        marketData: new IbMarketData(connection, { requestTimeoutMs: 100, historyTimeoutMs: 100 }),
        bus,
        store,
        barWriter: writer,
        tickWriter: undefined,
        metrics,
        logger: silentLogger(),
        higherTimeframes: [],
        stockWhatToShow: 'TRADES',
        staleAfterMs: 30_000,
        retentionMs: 86_400_000,
        onLiveSeam: () => undefined,
      },
      false,
    );
  });

  afterAll(async () => {
    await writer.stop();
    await bus.close();
    await store.close();
    await destroyStack(stack);
  });

  async function invalid(kind: string): Promise<number> {
    const { values } = await registry.getSingleMetric('md_invalid_total')!.get();
    return (
      values.find((value) => value.labels.kind === kind && value.labels.instrument === 'EURCAD')?.value ?? 0
    );
  }

  const part = (
    index: number,
    overrides: Partial<{ open: number; high: number; low: number; close: number }> = {},
  ) => ({
    ts: T0 + index * 5_000,
    open: 1.4823,
    high: 1.4825,
    low: 1.482,
    close: 1.4824,
    volume: -1,
    ...overrides,
  });

  it('drops 5-second bars with NaN, a negative price, high below low or time going backwards, and still builds the sound minutes', async () => {
    for (let i = 0; i < 12; i++) feed.onRealTimeBar(part(i));
    feed.onRealTimeBar(part(12, { close: Number.NaN }));
    feed.onRealTimeBar(part(12, { low: -1.48 }));
    feed.onRealTimeBar(part(12, { high: 1.48, low: 1.49, open: 1.485, close: 1.485 }));
    feed.onRealTimeBar(part(5)); // from the minute already done
    expect(await invalid('not_a_number')).toBe(1);
    expect(await invalid('negative_price')).toBe(1);
    expect(await invalid('high_below_low')).toBe(1);
    expect(await invalid('time_backwards')).toBe(1);
    await eventually(async () => (await storedBars(stack.db, 'EURCAD')).length === 1);
    const published = await streamMessages(stack.bus, subjects.bar('EURCAD', '1m'), parseBar);
    expect(published.map((bar) => [bar.ts, bar.high, bar.low])).toEqual([
      [new Date(T0).toISOString(), '1.4825', '1.482'],
    ]);
  });

  it('drops NaN and negative quotes and a crossed book, and publishes only the sound ticks', async () => {
    feed.onPrice(TickField.bid, Number.NaN);
    feed.onPrice(TickField.ask, -3);
    expect(await invalid('not_a_number')).toBe(2);
    expect(await invalid('negative_price')).toBe(2);
    feed.onPrice(TickField.bid, 1.49);
    feed.onPrice(TickField.ask, 1.48);
    await eventually(async () => (await invalid('crossed_quote')) === 1);
    feed.onPrice(TickField.ask, 1.4901);
    await eventually(
      async () => (await streamMessages(stack.bus, subjects.tick('EURCAD'), parseTick)).length === 1,
    );
    const [tick] = await streamMessages(stack.bus, subjects.tick('EURCAD'), parseTick);
    expect(tick).toMatchObject({ bid: '1.49', ask: '1.4901' });
  });

  it('drops invalid bars of a historical answer and stores the rest with the window they cover', async () => {
    const start = T0 + 2 * MINUTE;
    const stored = await feed.acceptHistory(
      [
        { ts: start, open: 1.4823, high: 1.4825, low: 1.482, close: 1.4824, volume: -1 },
        { ts: start + MINUTE, open: 1.4823, high: 1.482, low: 1.4825, close: 1.4824, volume: -1 },
        {
          ts: start + 2 * MINUTE,
          open: 1.4823,
          high: Number.POSITIVE_INFINITY,
          low: 1.482,
          close: 1.4824,
          volume: -1,
        },
      ],
      { start, end: start + 3 * MINUTE },
    );
    expect(stored).toBe(1);
    expect(await invalid('high_below_low')).toBe(2);
    expect(await invalid('not_a_number')).toBe(3);
    expect((await storedBars(stack.db, 'EURCAD')).map((bar) => bar.ts)).toEqual([T0, start]);
    expect(await store.coverage('EURCAD', '1m', T0, T0 + 10 * MINUTE)).toEqual([
      { start, end: start + 3 * MINUTE },
    ]);
  });

  it('drops a future-dated 5-second bar as bad_time without moving the clock, and goes on with the sound bars', async () => {
    const clockBefore = clock.now();
    const badTime = await invalid('bad_time');
    feed.onRealTimeBar({ ...part(0), ts: T0 + 86_400_000 });
    expect(await invalid('bad_time')).toBe(badTime + 1);
    expect(clock.now()).toBe(clockBefore);
    const timeBackwards = await invalid('time_backwards');
    // The minute after the first test's: continues that run (its last sound part was the twelfth).
    for (let i = 12; i < 25; i++) feed.onRealTimeBar(part(i));
    expect(await invalid('time_backwards')).toBe(timeBackwards);
    await eventually(async () =>
      (await storedBars(stack.db, 'EURCAD')).some((bar) => bar.ts === T0 + MINUTE && bar.source === 'live'),
    );
  });
});
