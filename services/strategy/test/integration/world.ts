import type { Bus } from '@ibstack/bus';
import {
  type Bar,
  KV_BUCKETS,
  KV_KEYS,
  type OrderIntent,
  STREAMS,
  type StreamName,
  topics,
  TradingState,
} from '@ibstack/contracts';
import { createRegistry, type Registry } from '@ibstack/observability';
import { DurableTradingState } from '@ibstack/operator';
import {
  builtInStrategies,
  createStrategyService,
  defineStrategy,
  parseSleevesConfig,
  type StrategyDefinition,
  strategyRegistry,
  type StrategyService,
  type StrategyServiceOptions,
} from '@ibstack/strategy';
import {
  createTestBus,
  createTestDatabase,
  ManualClock,
  silentLogger,
  type TestBus,
  type TestDatabase,
} from '@ibstack/test-kit';
import { z } from 'zod';

/** The clock the in-process services run on; bars in these tests start here, so none is stale. */
export const T0 = '2026-11-24T15:00:00.000Z';

/**
 * A test strategy driven by its parameters: `targets` maps a bar time to a weight, `throwAt` lists bar
 * times at which it throws, `tickTargets` maps a tick time to a weight. It records every bar it sees.
 */
export const scripted = defineStrategy({
  name: 'scripted',
  description: 'test strategy',
  parameters: z
    .object({
      targets: z.record(z.string(), z.number()).default({}),
      throwAt: z.array(z.string()).default([]),
      tickTargets: z.record(z.string(), z.number()).default({}),
    })
    .strict(),
  warmupBars: () => 100,
  create: ({ parameters }) => {
    const seen: string[] = [];
    return {
      onBar(bar) {
        seen.push(bar.ts);
        if (parameters.throwAt.includes(bar.ts)) throw new Error(`boom at ${bar.ts}`);
        const weight = parameters.targets[bar.ts];
        return weight === undefined ? [] : [{ type: 'target', instrument: bar.instrument, weight }];
      },
      onTick(tick) {
        const weight = parameters.tickTargets[tick.ts];
        return weight === undefined ? [] : [{ type: 'target', instrument: tick.instrument, weight }];
      },
      inspect: () => ({ seen: [...seen] }),
    };
  },
});

export interface SleeveSpec {
  name: string;
  strategy: string;
  instruments?: string[];
  timeframe?: string;
  capitalUsd?: number;
  parameters?: Record<string, unknown>;
  risk?: Record<string, unknown>;
  sizing?: Record<string, unknown>;
}

/** A sleeves file as JSON (valid YAML): EUR.CAD, 1m, 10 000 USD, steps of 1 000, a high order rate. */
export function sleevesFile(sleeves: SleeveSpec[], riskDefaults: Record<string, unknown> = {}): string {
  return JSON.stringify({
    instruments: ['EUR.CAD'],
    riskDefaults: { maxOrdersPerMinute: 1000, ...riskDefaults },
    sleeves: sleeves.map((sleeve) => ({
      instruments: ['EUR.CAD'],
      timeframe: '1m',
      capitalUsd: 10_000,
      sizing: { quantityStep: 1000 },
      ...sleeve,
    })),
  });
}

export interface RunningService {
  service: StrategyService;
  registry: Registry;
}

export interface World {
  db: TestDatabase;
  testBus: TestBus;
  bus: Bus;
  clock: ManualClock;
  start(
    file: string,
    options?: Partial<Omit<StrategyServiceOptions, 'sleeves'>> & { extraStrategies?: StrategyDefinition[] },
  ): Promise<RunningService>;
  publishBars(bars: readonly Bar[]): Promise<void>;
  insertBars(bars: readonly Bar[]): Promise<void>;
  setTradingState(state: TradingState['state'], by?: string): Promise<void>;
  tradingState(): Promise<TradingState | null>;
  intents(sleeve: string): Promise<Array<Record<string, unknown>>>;
  streamMessages(
    stream: StreamName,
    subjectPrefix: string,
  ): Promise<Array<{ subject: string; msgId: string | undefined; data: unknown }>>;
  publishedIntents(sleeve: string): Promise<OrderIntent[]>;
  metric(registry: Registry, name: string, labels?: Record<string, string>): Promise<number | undefined>;
  close(): Promise<void>;
}

/** An isolated database and bus namespace, and in-process strategy services on them. */
export async function openWorld(): Promise<World> {
  const [db, testBus] = await Promise.all([createTestDatabase(), createTestBus()]);
  const { bus } = testBus;
  const clock = new ManualClock(Date.parse(T0));
  const services: StrategyService[] = [];

  const world: World = {
    db,
    testBus,
    bus,
    clock,
    async start(file, options = {}) {
      const { extraStrategies = [], ...serviceOptions } = options;
      const strategies = strategyRegistry([...builtInStrategies().values(), scripted, ...extraStrategies]);
      const registry = createRegistry('strategy-test', { defaultMetrics: false });
      const service = createStrategyService(
        { sleeves: parseSleevesConfig(file, 'test.json', strategies), ...serviceOptions },
        { db: db.db, bus, logger: silentLogger('strategy'), registry, clock: clock.now },
      );
      services.push(service);
      await service.start();
      return { service, registry };
    },
    async publishBars(bars) {
      for (const bar of bars) await bus.publish(topics.bar, bar);
    },
    async insertBars(bars) {
      if (bars.length === 0) return;
      await db.db
        .insertInto('bars')
        .values(
          bars.map((bar) => ({
            instrument: bar.instrument,
            timeframe: bar.timeframe,
            ts: bar.ts,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            source: bar.source,
          })),
        )
        .execute();
    },
    async setTradingState(state, by = 'operator:test') {
      await new DurableTradingState({ bus, db: db.db }).write({ v: 1, state, reason: 'test', by, at: T0 });
    },
    async tradingState() {
      const kv = await bus.kv(KV_BUCKETS.trading, TradingState);
      return (await kv.get(KV_KEYS.tradingState))?.value ?? null;
    },
    async intents(sleeve) {
      const rows = await db.db
        .selectFrom('order_intents')
        .selectAll()
        .where('sleeve', '=', sleeve)
        .orderBy('bar_ts')
        .orderBy('sequence')
        .execute();
      return rows.map((row) => ({
        intentId: row.intent_id,
        barTs: row.bar_ts.toISOString(),
        sequence: row.sequence,
        side: row.side,
        quantity: row.quantity,
        status: row.status,
        riskReason: row.risk_reason,
        published: row.published_at !== null,
        reason: row.reason,
      }));
    },
    async streamMessages(stream, subjectPrefix) {
      const name = bus.namespace.stream(STREAMS[stream].name);
      const info = await bus.jsm.streams.info(name);
      const found: Array<{ subject: string; msgId: string | undefined; data: unknown }> = [];
      if (info.state.messages === 0) return found;
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const message = await bus.jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!message) continue;
        const subject = bus.namespace.baseSubject(message.subject);
        if (!subject.startsWith(subjectPrefix)) continue;
        found.push({ subject, msgId: message.header?.get('Nats-Msg-Id'), data: message.json() });
      }
      return found;
    },
    async publishedIntents(sleeve) {
      const messages = await world.streamMessages('ORDERS', `order.intent.${sleeve}`);
      return messages.map((message) => message.data as OrderIntent);
    },
    async metric(registry, name, labels = {}) {
      const metric = registry.getSingleMetric(name);
      if (!metric) return undefined;
      const { values } = await metric.get();
      return values.find((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v))?.value;
    },
    async close() {
      await Promise.all(services.map((service) => service.stop()));
      await testBus.destroy();
      await db.drop();
    },
  };
  return world;
}
