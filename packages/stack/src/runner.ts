/**
 * Runs the whole trading path as local processes, in dependency order, each started only after the one
 * before answers /readyz: gateway-sim → ingestor → strategy → execution → dashboard-api (→ notifier, the Telegram bot, when
 * it is configured). Checks Postgres and NATS first and runs the migrations. Restarts a crashed service with backoff; stops everything (in reverse order,
 * SIGTERM first, so an order in flight is recorded) on `stop()`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { checkNats } from '@ibstack/bus';
import { checkPostgres, migrateToLatest } from '@ibstack/db';
import pc from 'picocolors';

import { REPO_ROOT, type StackConfig } from './config';
import { colourFor, formatLine } from './log-format';
import { notifierSetup } from './notifier-setup';
import { type ServiceSpec, Supervisor } from './supervisor';

export interface StackHandle {
  readonly services: readonly Supervisor[];
  stop(): Promise<void>;
}

export interface RunnerOptions {
  /** Where output lines go. @default process.stdout */
  write?: (line: string) => void;
  /** Per-service readiness timeout. @default 120000 */
  readyTimeoutMs?: number;
  /** Environment the services inherit. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Aborting it during start-up stops what has started and rejects with StackAbortedError. */
  signal?: AbortSignal;
}

export class StackAbortedError extends Error {
  override readonly name = 'StackAbortedError';
  constructor() {
    super('start-up interrupted; every service started so far was stopped');
  }
}

export class DependencyError extends Error {
  override readonly name = 'DependencyError';
}

function entry(service: string): string {
  return join(REPO_ROOT, 'services', service, 'src', 'main.ts');
}

/**
 * The dashboard's JWT key for a local stack: made once, kept in the state folder (mode 0600) so a
 * restart keeps everyone logged in, and handed over as a file, never on a command line.
 */
export function localJwtSecretFile(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'dashboard-jwt-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(48).toString('base64'), { mode: 0o600 });
  return file;
}

/** The services of the stack with the environment each needs. */
export function stackServices(config: StackConfig, baseEnv: NodeJS.ProcessEnv = process.env): ServiceSpec[] {
  const http = (offset: number) => config.STACK_HTTP_PORT_BASE + offset;
  const shared = {
    ...baseEnv,
    LOG_LEVEL: config.LOG_LEVEL,
    DATABASE_URL: config.DATABASE_URL,
    NATS_URL: config.NATS_URL,
    NATS_REPLICAS: String(config.NATS_REPLICAS),
    BUS_NAMESPACE: config.BUS_NAMESPACE,
    // Each service stops itself if the runner disappears without stopping it (SIGKILL, a lost terminal).
    IBSTACK_PARENT_PID: String(process.pid),
    IB_HOST: config.IB_HOST,
    IB_PORT: String(config.IB_PORT),
    INSTRUMENTS: config.INSTRUMENTS,
  };
  const services: ServiceSpec[] = [];
  if (config.STACK_SIM) {
    mkdirSync(config.STACK_STATE_DIR, { recursive: true });
    services.push({
      name: 'gateway-sim',
      entry: entry('gateway-sim'),
      env: {
        ...shared,
        HTTP_PORT: String(http(0)),
        GATEWAY_SIM_PORT: String(config.IB_PORT),
        GATEWAY_SIM_SEED: String(config.SIM_SEED),
        GATEWAY_SIM_SPEED: String(config.SIM_SPEED),
        GATEWAY_SIM_MARKET_HOURS: config.SIM_MARKET_HOURS,
        GATEWAY_SIM_STATE_FILE: join(config.STACK_STATE_DIR, 'gateway-sim.json'),
      },
      healthUrl: `http://127.0.0.1:${http(0)}`,
    });
  }
  services.push(
    {
      name: 'ingestor',
      entry: entry('ingestor'),
      env: { ...shared, HTTP_PORT: String(http(1)), BACKFILL_DAYS: String(config.BACKFILL_DAYS) },
      healthUrl: `http://127.0.0.1:${http(1)}`,
    },
    {
      name: 'strategy',
      entry: entry('strategy'),
      env: { ...shared, HTTP_PORT: String(http(2)), SLEEVES_FILE: config.SLEEVES_FILE },
      healthUrl: `http://127.0.0.1:${http(2)}`,
    },
    {
      name: 'execution',
      entry: entry('execution'),
      env: { ...shared, HTTP_PORT: String(http(3)) },
      healthUrl: `http://127.0.0.1:${http(3)}`,
    },
    {
      name: 'dashboard-api',
      entry: entry('dashboard-api'),
      env: {
        ...shared,
        HTTP_PORT: String(http(4)),
        // A local stack: this machine only, plain HTTP (the compose stack sits behind the TLS proxy).
        HTTP_HOST: '127.0.0.1',
        COOKIE_SECURE: 'false',
        JWT_SECRET_FILE: localJwtSecretFile(config.STACK_STATE_DIR),
      },
      healthUrl: `http://127.0.0.1:${http(4)}`,
    },
    // Offset 5 is the notifier's.
    {
      name: 'gateway-supervisor',
      entry: entry('gateway-supervisor'),
      env: { ...shared, HTTP_PORT: String(http(6)) },
      healthUrl: `http://127.0.0.1:${http(6)}`,
    },
  );
  const notifier = notifierSetup(config);
  if (notifier.enabled)
    services.push({
      name: 'notifier',
      entry: entry('notifier'),
      env: { ...shared, ...notifier.env },
      healthUrl: `http://127.0.0.1:${notifier.env.HTTP_PORT}`,
    });
  return services;
}

export async function runStack(config: StackConfig, options: RunnerOptions = {}): Promise<StackHandle> {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const say = (message: string) => write(`${pc.bold('stack'.padEnd(11))} │ ${message}`);

  const problems = (
    await Promise.all([checkPostgres(config.DATABASE_URL), checkNats(config.NATS_URL)])
  ).filter((problem): problem is string => problem !== null);
  if (problems.length > 0)
    throw new DependencyError(
      `ibstack needs Postgres and NATS JetStream:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );

  const report = await migrateToLatest(config.DATABASE_URL);
  say(report.applied.length > 0 ? `migrated: ${report.applied.join(', ')}` : 'database is up to date');

  const specs = stackServices(config, options.env);
  const notifier = notifierSetup(config);
  if (!notifier.enabled) say(`Telegram bot is off (${notifier.reason}); to turn it on, ${notifier.howTo}`);
  const width = Math.max(...specs.map((spec) => spec.name.length), 5) + 1;
  const supervisors = specs.map(
    (spec, index) =>
      new Supervisor(spec, {
        print: (line) => write(formatLine(spec.name, width, colourFor(index), line)),
        announce: say,
      }),
  );
  const started: Supervisor[] = [];
  const stop = async () => {
    say('stopping');
    for (const supervisor of [...started].reverse()) {
      await supervisor.stop();
      say(`${supervisor.spec.name} stopped`);
    }
  };
  const abort = () => {
    if (options.signal?.aborted) throw new StackAbortedError();
  };
  try {
    abort();
    for (const supervisor of supervisors) {
      say(`starting ${supervisor.spec.name}`);
      supervisor.start();
      started.push(supervisor);
      await supervisor.waitUntilReady(options.readyTimeoutMs ?? 120_000, options.signal);
      abort();
      say(`${supervisor.spec.name} ready (${supervisor.spec.healthUrl})`);
    }
  } catch (error) {
    await stop();
    throw options.signal?.aborted ? new StackAbortedError() : error;
  }
  say(`all services ready; ${pc.bold('npm run status')} shows what the stack is doing; Ctrl-C stops it`);
  const dashboard = specs.find((spec) => spec.name === 'dashboard-api');
  if (dashboard)
    say(
      `dashboard: ${pc.bold(dashboard.healthUrl)} — first user: ${pc.bold('npm run user -- add <name> --role operator')}` +
        ` (with the same DATABASE_URL)`,
    );
  return { services: supervisors, stop };
}
