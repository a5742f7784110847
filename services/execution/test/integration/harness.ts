/**
 * Test harness for execution: a simulated gateway in this process, an isolated database and NATS
 * namespace, and execution itself either in-process (`createExecutionService`) or as a child process
 * that a test can SIGKILL.
 */
import { join } from 'node:path';

import { type Bus } from '@ibstack/bus';
import {
  ControlCommand,
  deriveIntentId,
  KV_KEYS,
  nowIso,
  type OrderIntent,
  randomId,
  TradingState,
  topics,
} from '@ibstack/contracts';
import { startGatewaySim, type GatewaySim, type GatewaySimOptions } from '@ibstack/gateway-sim';
import { createRegistry, type Registry } from '@ibstack/observability';
import { DurableTradingState } from '@ibstack/operator';
import {
  createTestBus,
  createTestDatabase,
  eventually,
  publishQuoteTicks,
  silentLogger,
  spawnTs,
  type SpawnedProcess,
  type TestBus,
  type TestDatabase,
  testEnvironment,
} from '@ibstack/test-kit';

import { executionEnv, type ExecutionConfig } from '../../src/config';
import { connectExecution } from '../../src/adapters/connect';
import { createExecutionService, type ExecutionService } from '../../src/service';

export const MAIN = join(__dirname, '..', '..', 'src', 'main.ts');

export interface Harness {
  sim: GatewaySim;
  database: TestDatabase;
  testBus: TestBus;
  bus: Bus;
  env: Record<string, string>;
  /** The clock execution runs on in this harness (and the ticks are stamped with); absent: the wall clock. */
  clock?: () => number;
  close(): Promise<void>;
}

/**
 * `clock` pins the time execution reads (a test that depends on the time of day: the 17:00 New York roll);
 * the sim should then start at the same instant (`simOptions.startTime`).
 */
export async function startHarness(
  simOptions: GatewaySimOptions = {},
  env: Record<string, string> = {},
  clock?: () => number,
): Promise<Harness> {
  const [sim, database, testBus] = await Promise.all([
    startGatewaySim({
      port: 0,
      speed: 60,
      marketHours: 'always-open',
      seed: 7,
      logger: silentLogger('gateway-sim'),
      // The sim starts at the wall clock and runs fast, so IB's midnight cut-off of reqExecutions would
      // fall inside a test at some times of day and not at others. Tests get it only when they ask
      // (execution-window.int.test.ts), at a fixed time.
      executionWindow: 'unlimited',
      ...simOptions,
    }),
    createTestDatabase(),
    createTestBus(),
  ]);
  const { natsUrl } = testEnvironment();
  // The ingestor's part: execution prices orders from the ticks on NATS.
  const stopTicks = publishQuoteTicks(testBus.bus, sim, undefined, undefined, clock);
  return {
    sim,
    database,
    testBus,
    bus: testBus.bus,
    ...(clock ? { clock } : {}),
    env: {
      DATABASE_URL: database.url,
      NATS_URL: natsUrl,
      BUS_NAMESPACE: testBus.namespace,
      IB_HOST: '127.0.0.1',
      IB_PORT: String(sim.port),
      HTTP_PORT: '0',
      LEASE_TTL_MS: '1500',
      RECONCILE_INTERVAL_MS: '600000',
      ACCOUNT_SNAPSHOT_INTERVAL_MS: '500',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      ...env,
    },
    close: async () => {
      stopTicks();
      await sim.close();
      await testBus.destroy();
      await database.drop();
    },
  };
}

export function configFrom(env: Record<string, string>): ExecutionConfig {
  return executionEnv.parse(env);
}

/** Execution in this process, for scenarios that need no kill. */
export async function startInProcess(
  harness: Harness,
  env: Record<string, string> = {},
  registry: Registry = createRegistry('execution', { defaultMetrics: false }),
  clock?: () => number,
): Promise<ExecutionService> {
  return bootExecution(configFrom({ ...harness.env, ...env }), registry, clock ?? harness.clock);
}

/**
 * Connects and starts execution the way `main.ts` does; its `stop()` also closes the connections (what
 * `main.ts` does after the service stopped).
 */
export async function bootExecution(
  config: ExecutionConfig,
  registry: Registry = createRegistry('execution', { defaultMetrics: false }),
  clock?: () => number,
): Promise<ExecutionService> {
  const logger = silentLogger('execution');
  const connections = await connectExecution(config, { logger, registry });
  const service = createExecutionService(config, {
    ...connections,
    logger,
    registry,
    http: false,
    ...(clock ? { clock } : {}),
  });
  try {
    await service.start();
  } catch (error) {
    await service.stop().catch(() => undefined);
    await connections.close();
    throw error;
  }
  return Object.assign(Object.create(service) as ExecutionService, {
    stop: async () => {
      await service.stop();
      await connections.close();
    },
  });
}

/**
 * The setup the in-process scenarios share: per test a harness and an in-process execution, stopped and
 * closed after the test (it registers its own `afterEach`). Tests that act between the two (an order
 * recorded before execution starts, a trading state set) call `startHarness`, then `startService`.
 */
export function inProcessScenario() {
  let harness: Harness | undefined;
  let service: ExecutionService | undefined;
  afterEach(async () => {
    const [running, open] = [service, harness];
    service = undefined;
    harness = undefined;
    await running?.stop();
    await open?.close();
  });
  const scenario = {
    /** This test's harness (throws before `startHarness`). */
    get harness(): Harness {
      if (!harness) throw new Error('no harness started in this test');
      return harness;
    },
    /** `clock`: see `startHarness`; the service started in this scenario runs on it. */
    async startHarness(
      simOptions: GatewaySimOptions = {},
      env: Record<string, string> = {},
      clock?: () => number,
    ): Promise<Harness> {
      harness = await startHarness(simOptions, env, clock);
      return harness;
    },
    /** Execution in this process, on the harness's clock. */
    async startService(env: Record<string, string> = {}, registry?: Registry): Promise<ExecutionService> {
      service = await startInProcess(scenario.harness, env, registry);
      return service;
    },
    /** Both: a harness with `simOptions`, then execution with `env`. */
    async start(
      simOptions: GatewaySimOptions = {},
      env: Record<string, string> = {},
    ): Promise<{ harness: Harness; service: ExecutionService }> {
      const started = await scenario.startHarness(simOptions);
      return { harness: started, service: await scenario.startService(env) };
    },
  };
  return scenario;
}

/** Execution as a child process (a real kill target). Resolves once it has started. */
export async function startProcess(
  harness: Harness,
  env: Record<string, string> = {},
): Promise<SpawnedProcess> {
  const child = spawnTs(MAIN, [], { ...harness.env, ...env });
  await child.waitForLine('execution started', 30_000);
  return child;
}

let sequence = 0;

/** A market order intent for EUR.CAD, unique per call, created now. */
export function intent(overrides: Partial<OrderIntent> = {}): OrderIntent {
  const barTs =
    overrides.barTs ?? new Date(Date.UTC(2026, 10, 24, 15, 0, 0) + sequence++ * 60_000).toISOString();
  const sleeve = overrides.sleeve ?? 'crash';
  return {
    v: 1,
    intentId: deriveIntentId({ sleeve, instrument: overrides.instrument ?? 'EURCAD', barTs, sequence: 0 }),
    sleeve,
    instrument: 'EURCAD',
    side: 'BUY',
    quantity: '20000',
    orderType: 'MKT',
    timeInForce: 'DAY',
    barTs,
    timeframe: '1m',
    sequence: 0,
    referencePrice: '1.48',
    createdAt: nowIso(),
    ...overrides,
  };
}

export async function publishIntent(bus: Bus, value: OrderIntent): Promise<void> {
  await bus.publish(topics.orderIntent, value);
}

export async function tradingState(bus: Bus): Promise<TradingState | null> {
  const kv = await bus.kv('trading', TradingState, { history: 10 });
  return (await kv.get(KV_KEYS.tradingState))?.value ?? null;
}

/** Waits until the stack's reconciliation has run at least `count` times. */
export async function reconciliationRuns(harness: Harness, count = 1, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const runs = await harness.database.db
        .selectFrom('reconciliation_runs')
        .selectAll()
        .orderBy('finished_at')
        .execute();
      expect(runs.length).toBeGreaterThanOrEqual(count);
      return runs;
    },
    { timeoutMs },
  );
}

/** The stored orders, oldest first. */
export async function ordersOf(harness: Harness) {
  return harness.database.db.selectFrom('orders').selectAll().orderBy('id').execute();
}

/** An operator command on `sys.control`, issued by "alice". */
export async function sendControl(harness: Harness, command: Record<string, unknown>): Promise<void> {
  await harness.bus.publish(
    topics.control,
    ControlCommand.parse({ v: 1, commandId: randomId(), by: 'alice', at: nowIso(), ...command }),
  );
}

/** Every message of `topic` in its stream so far, oldest first, parsed by the topic's own schema. */
export async function publishedMessages<T>(
  harness: Harness,
  topic: { stream: 'MD' | 'ORDERS' | 'SYS'; filter: string; schema: { parse(value: unknown): T } },
): Promise<T[]> {
  const stream = harness.bus.namespace.stream(topic.stream);
  const info = await harness.bus.jsm.streams.info(stream);
  const wanted = harness.bus.namespace.subject(topic.filter);
  const pattern = new RegExp(`^${wanted.replace(/\./g, '\\.').replace(/\*/g, '[^.]+').replace(/>$/, '.+')}$`);
  const messages: T[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await harness.bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (message && pattern.test(message.subject)) messages.push(topic.schema.parse(message.json()));
  }
  return messages;
}

/** Sets the trading state the way the CLI does when it writes KV itself. */
export async function setTradingState(harness: Harness, state: TradingState['state']): Promise<void> {
  await new DurableTradingState({ bus: harness.bus, db: harness.database.db }).write({
    v: 1,
    state,
    reason: 'operator: test',
    by: 'alice',
    at: nowIso(),
  });
}
