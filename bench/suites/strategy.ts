import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Bus } from '@ibstack/bus';
import { type Bar, subjects, topics } from '@ibstack/contracts';
import { createRegistry } from '@ibstack/observability';
import { builtInStrategies, createStrategyService, parseSleevesConfig } from '@ibstack/strategy';
import { createTestDatabase, makeBar, silentLogger, testEnvironment, uniqueSuffix } from '@ibstack/test-kit';

import type { Figure, Suite } from '../lib/report';
import { nowMs } from '../lib/stats';

/** A zigzag of one-minute bars in the near future: with a 1-over-2 crossover every bar makes an intent. */
function zigzag(count: number): Bar[] {
  const start = Math.ceil(Date.now() / 60_000) * 60_000 + 60_000;
  return Array.from({ length: count }, (_, i) => {
    const price = i % 2 === 0 ? '1.5000' : '1.5100';
    const ts = new Date(start + i * 60_000).toISOString();
    return makeBar({ ts, open: price, high: price, low: price, close: price, receivedAt: ts });
  });
}

async function publishAll(bus: Bus, bars: readonly Bar[]): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (const bar of bars) {
    const publish = bus.publish(topics.bar, bar);
    inFlight.add(publish);
    void publish.finally(() => inFlight.delete(publish));
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Bars per second through the whole engine: consume, strategy, risk, store, publish intents. */
async function engineRate(
  sleeveCount: number,
  barCount: number,
): Promise<{ barsPerSecond: number; intents: number }> {
  const database = await createTestDatabase();
  const registry = createRegistry('bench-strategy', { defaultMetrics: false });
  const bus = await Bus.connect({
    url: testEnvironment().natsUrl,
    name: 'bench-strategy',
    namespace: `bench${uniqueSuffix()}`,
    logger: silentLogger(),
    registry,
  });
  try {
    await bus.ensureStreams();
    const file = JSON.stringify({
      instruments: ['EUR.CAD'],
      riskDefaults: {
        maxOrdersPerMinute: 1_000_000,
        maxPositionUsd: 1_000_000_000,
        maxOrderNotionalUsd: 1_000_000_000,
      },
      sleeves: Array.from({ length: sleeveCount }, (_, i) => ({
        name: `s${i}`,
        strategy: 'ma-crossover',
        instruments: ['EUR.CAD'],
        timeframe: '1m',
        capitalUsd: 10_000,
        parameters: { fast: 1, slow: 2 },
        sizing: { quantityStep: 1000 },
      })),
    });
    const service = createStrategyService(
      { sleeves: parseSleevesConfig(file, 'bench.json', builtInStrategies()) },
      { db: database.db, bus, logger: silentLogger(), registry },
    );
    await service.start();
    const bars = zigzag(barCount);
    const processed = registry.getSingleMetric('strategy_bars_processed_total')!;
    const started = nowMs();
    await publishAll(bus, bars);
    await until(async () => ((await processed.get()).values[0]?.value ?? 0) >= barCount);
    const seconds = (nowMs() - started) / 1000;
    await service.stop();
    const { count } = await database.db
      .selectFrom('order_intents')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return { barsPerSecond: barCount / seconds, intents: Number(count) };
  } finally {
    await bus.destroyNamespace().catch(() => undefined);
    await bus.close();
    await database.drop();
  }
}

/**
 * The baseline: the same bar messages through a bare JetStream durable consumer that publishes one message
 * per bar to the ORDERS stream and acknowledges. No validation, no database, no ordering guarantee.
 */
async function relayRate(barCount: number): Promise<number> {
  const namespace = `bench${uniqueSuffix()}`;
  const bus = await Bus.connect({
    url: testEnvironment().natsUrl,
    name: 'bench-relay',
    namespace,
    logger: silentLogger(),
    registry: createRegistry('bench-relay', { defaultMetrics: false }),
  });
  const nc = await connect({ servers: testEnvironment().natsUrl });
  try {
    await bus.ensureStreams();
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const stream = bus.namespace.stream('MD');
    await jsm.consumers.add(stream, {
      durable_name: 'relay',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: bus.namespace.subject(subjects.bar('EURCAD', '1m')),
    });
    const consumer = await js.consumers.get(stream, 'relay');
    const messages = await consumer.consume();
    let relayed = 0;
    const done = (async () => {
      for await (const message of messages) {
        await js.publish(bus.namespace.subject(subjects.orderIntent('relay')), message.data, {
          msgID: `relay-${message.seq}`,
        });
        message.ack();
        relayed += 1;
        if (relayed === barCount) break;
      }
    })();
    const started = nowMs();
    await publishAll(bus, zigzag(barCount));
    await done;
    const seconds = (nowMs() - started) / 1000;
    await messages.close();
    return barCount / seconds;
  } finally {
    await bus.destroyNamespace().catch(() => undefined);
    await bus.close();
    await nc.close();
  }
}

export const strategySuite: Suite = {
  name: 'strategy',
  description:
    'bars/s through the strategy engine (consume one at a time, strategy, risk, commit, publish an intent per sleeve per bar) vs a raw JetStream consume→publish relay',
  async run({ scale, log }) {
    const figures: Figure[] = [];
    for (const [sleeves, bars] of [
      [1, 400],
      [10, 400],
      [100, 150],
    ] as const) {
      const count = Math.max(30, Math.round(bars * scale));
      log(`engine with ${sleeves} sleeve(s) over ${count} bars`);
      const engine = await engineRate(sleeves, count);
      log(`  ${engine.intents} intents stored; raw relay over the same ${count} bars`);
      const relay = await relayRate(count);
      figures.push({
        name: `strategy.bars_per_second.${sleeves}_sleeve${sleeves === 1 ? '' : 's'}`,
        value: engine.barsPerSecond,
        unit: 'bars/s',
        baselineName: 'raw JetStream consume→publish relay',
        baseline: relay,
        better: 'higher',
      });
    }
    return figures;
  },
};
