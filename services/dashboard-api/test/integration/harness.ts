/**
 * The real stack for dashboard-api tests: gateway-sim, execution (in-process, so orders really reach
 * the simulated broker), an isolated database and NATS namespace, and dashboard-api on a free port.
 */
import {
  connectExecution,
  createExecutionService,
  type ExecutionConnections,
  executionEnv,
  type ExecutionService,
} from '@ibstack/execution';
import { startGatewaySim, type GatewaySim } from '@ibstack/gateway-sim';
import {
  connectIngestor,
  createIngestorService,
  type IngestorConnections,
  ingestorEnv,
  type IngestorService,
} from '@ibstack/ingestor';
import { loadConfig } from '@ibstack/config';
import { createRegistry, type Logger } from '@ibstack/observability';
import {
  createTestBus,
  createTestDatabase,
  eventually,
  publishQuoteTicks,
  silentLogger,
  type TestBus,
  type TestDatabase,
  testEnvironment,
} from '@ibstack/test-kit';

import { hashPassword } from '../../src/auth/passwords';
import type { Role } from '../../src/auth/roles';
import { UserStore } from '../../src/adapters/pg-users';
import { dashboardEnv } from '../../src/config';
import { connectDashboard } from '../../src/adapters/connect';
import { createDashboardService, type DashboardService } from '../../src/service';

export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const PASSWORD = 'correct horse battery staple';

export interface Stack {
  sim: GatewaySim | null;
  database: TestDatabase;
  testBus: TestBus;
  execution: ExecutionService | null;
  ingestor: IngestorService | null;
  dashboard: DashboardService;
  url: string;
  env: Record<string, string>;
  addUser(name: string, role: Role, password?: string): Promise<void>;
  /** Logs in and returns the bearer token. */
  login(name: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Run gateway-sim and execution too (orders reach a broker). @default true */
  trading?: boolean;
  /** Run the ingestor too (live quotes and bars from the sim). @default false */
  ingestor?: boolean;
  dashboardEnv?: Record<string, string>;
  /** dashboard-api's logger. @default silent */
  dashboardLogger?: Logger;
  /** Where dashboard-api builds its page. @default its public/ */
  pageBuildDir?: string;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const trading = options.trading ?? true;
  const [database, testBus, sim] = await Promise.all([
    createTestDatabase(),
    createTestBus(),
    trading
      ? startGatewaySim({
          port: 0,
          speed: 60,
          marketHours: 'always-open',
          seed: 7,
          logger: silentLogger('gateway-sim'),
        })
      : Promise.resolve(null),
  ]);
  const { natsUrl } = testEnvironment();
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    NATS_URL: natsUrl,
    BUS_NAMESPACE: testBus.namespace,
    IB_HOST: '127.0.0.1',
    IB_PORT: String(sim?.port ?? 4002),
    HTTP_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  };
  let execution: ExecutionService | null = null;
  let executionConnections: ExecutionConnections | null = null;
  // Execution prices orders from ticks on NATS: the ingestor's part, when it does not run.
  const stopTicks = sim && !options.ingestor ? publishQuoteTicks(testBus.bus, sim) : () => undefined;
  if (trading) {
    const executionConfig = executionEnv.parse({
      ...env,
      LEASE_TTL_MS: '1500',
      ACCOUNT_SNAPSHOT_INTERVAL_MS: '500',
      RECONCILE_INTERVAL_MS: '600000',
    });
    const logger = silentLogger('execution');
    const registry = createRegistry('execution', { defaultMetrics: false });
    executionConnections = await connectExecution(executionConfig, { logger, registry });
    execution = createExecutionService(executionConfig, {
      ...executionConnections,
      logger,
      registry,
      http: false,
    });
    await execution.start();
  }
  let ingestor: IngestorService | null = null;
  let ingestorConnections: IngestorConnections | null = null;
  if (options.ingestor) {
    const ingestorConfig = loadConfig('ingestor', ingestorEnv, {
      ...env,
      IB_CLIENT_ID: '20',
      INSTRUMENTS: 'EUR.CAD',
      BACKFILL_DAYS: '0.05',
      BAR_FLUSH_INTERVAL_MS: '100',
      GAP_CHECK_INTERVAL_MS: '1000',
    });
    const logger = silentLogger('ingestor');
    const registry = createRegistry('ingestor', { defaultMetrics: false });
    ingestorConnections = await connectIngestor(ingestorConfig, { logger, registry });
    ingestor = createIngestorService(ingestorConfig, { ...ingestorConnections, logger, registry });
    await ingestor.start();
  }
  const dashboardConfig = dashboardEnv.parse({
    ...env,
    HTTP_HOST: '127.0.0.1',
    JWT_SECRET,
    COOKIE_SECURE: 'false',
    ORDER_WAIT_MS: '10000',
    CONTROL_REPLY_TIMEOUT_MS: '1500',
    ...options.dashboardEnv,
  });
  const dashboardLogger = options.dashboardLogger ?? silentLogger('dashboard-api');
  const dashboardRegistry = createRegistry('dashboard-api', { defaultMetrics: false });
  const dashboardConnections = await connectDashboard(dashboardConfig, {
    logger: dashboardLogger,
    registry: dashboardRegistry,
  });
  const dashboard = createDashboardService(dashboardConfig, {
    ...dashboardConnections,
    logger: dashboardLogger,
    registry: dashboardRegistry,
    pageBuildDir: options.pageBuildDir,
  });
  await dashboard.start();
  const users = new UserStore(database.db);
  const url = dashboard.url;
  const stack: Stack = {
    sim,
    database,
    testBus,
    execution,
    ingestor,
    dashboard,
    url,
    env,
    addUser: async (name, role, password = PASSWORD) => {
      await users.add(name, await hashPassword(password), role);
    },
    login: async (name, password = PASSWORD) => {
      const response = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: name, password }),
      });
      if (response.status !== 200)
        throw new Error(`login ${name}: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { token: string }).token;
    },
    close: async () => {
      await dashboard.stop();
      await dashboardConnections.close();
      await ingestor?.stop();
      await ingestorConnections?.close();
      await execution?.stop();
      await executionConnections?.close();
      stopTicks();
      await sim?.close();
      await testBus.destroy();
      await database.drop();
    },
  };
  return stack;
}

/** Waits until execution trades (its session is up and it has reconciled once). */
export async function untilTrading(stack: Stack): Promise<void> {
  await eventually(
    async () => {
      const runs = await stack.database.db.selectFrom('reconciliation_runs').select('run_id').execute();
      expect(runs.length).toBeGreaterThan(0);
    },
    { timeoutMs: 20_000 },
  );
}

export interface Call {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

/** One real HTTP request. */
export async function call(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Call> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
