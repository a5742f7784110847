import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@ibstack/config';
import { runStack, stackEnv, type StackHandle } from '@ibstack/stack';
import {
  createTestBus,
  createTestDatabase,
  freePort,
  freePortRange,
  testEnvironment,
  type TestBus,
  type TestDatabase,
} from '@ibstack/test-kit';

import type { ScrapeTarget } from './prometheus';

export interface LocalStackOptions {
  /** Simulated seconds per wall second. @default 30 */
  speed?: number;
  /** Extra environment for every service (STALE_AFTER_MS, RECONCILE_INTERVAL_MS …). */
  env?: Record<string, string>;
  /** HTTP ports STACK_HTTP_PORT_BASE + 0 … n−1 are reserved. @default 8 */
  httpPorts?: number;
  /** Runs the notifier against this (fake) Bot API; without it the notifier stays off. */
  telegram?: { apiRoot: string; token: string; chats: string };
}

export interface LocalStack {
  readonly handle: StackHandle;
  readonly database: TestDatabase;
  readonly bus: TestBus;
  /** The gateway-sim's HTTP API (/admin/…, /status). */
  readonly simUrl: string;
  /** Each service of the runner: its name (= its production job name) and base URL. */
  readonly services: ReadonlyArray<{ name: string; url: string }>;
  /** Prometheus targets for every service. */
  readonly targets: ScrapeTarget[];
  /** The runner's last output lines, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The whole stack started by the same runner as `npm start` (gateway-sim, ingestor, strategy,
 * execution, and whatever the runner starts besides), in its own database, NATS namespace, ports and
 * state directory.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const database = await createTestDatabase();
  const bus = await createTestBus();
  const stateDir = mkdtempSync(join(tmpdir(), 'ibstack-monitoring-'));
  const lines: string[] = [];
  const cleanUp = async () => {
    await bus.destroy().catch(() => undefined);
    await database.drop().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const httpBase = await freePortRange(options.httpPorts ?? 8);
    // The notifier runs when its token file holds a token: never the developer's own by accident.
    const tokenFile = join(stateDir, 'telegram_bot_token');
    if (options.telegram) writeFileSync(tokenFile, options.telegram.token, { mode: 0o600 });
    const config = loadConfig('monitoring-test', stackEnv, {
      DATABASE_URL: database.url,
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: bus.namespace,
      IB_PORT: String(await freePort()),
      STACK_HTTP_PORT_BASE: String(httpBase),
      STACK_STATE_DIR: stateDir,
      SIM_SPEED: String(options.speed ?? 30),
      BACKFILL_DAYS: '0.05',
      LOG_LEVEL: 'warn',
      TELEGRAM_BOT_TOKEN_FILE: tokenFile,
      ...(options.telegram ? { TELEGRAM_CHATS: options.telegram.chats } : {}),
    });
    const handle = await runStack(config, {
      write: (line) => {
        lines.push(line);
        if (lines.length > 300) lines.splice(0, lines.length - 300);
      },
      env: {
        ...process.env,
        NO_COLOR: '1',
        ...(options.telegram ? { TELEGRAM_API_ROOT: options.telegram.apiRoot } : {}),
        ...options.env,
      },
    });
    const services = handle.services.map((service) => ({
      name: service.spec.name,
      url: service.spec.healthUrl,
    }));
    return {
      handle,
      database,
      bus,
      simUrl: `http://127.0.0.1:${httpBase}`,
      services,
      targets: services.map((service) => ({ job: service.name, target: new URL(service.url).host })),
      output: () => lines.join('\n'),
      stop: async () => {
        await handle.stop();
        await cleanUp();
      },
    };
  } catch (error) {
    await cleanUp();
    throw new Error(`${(error as Error).message}\n${lines.join('\n')}`, { cause: error });
  }
}

/** POST to the gateway-sim's fault API (`/admin/<fault>`). */
export async function simFault(
  simUrl: string,
  fault: string,
  body: Record<string, unknown> = {},
): Promise<void> {
  const response = await fetch(`${simUrl}/admin/${fault}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`sim fault ${fault}: ${response.status} ${await response.text()}`);
}
