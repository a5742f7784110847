/**
 * The notifier against a fake Telegram Bot API, with its own database and NATS namespace. Chats: an
 * operator (alice, private chat), a viewer (bob, private chat); anyone else is a stranger.
 */
import { loadConfig } from '@ibstack/config';
import { createRegistry, type Registry } from '@ibstack/observability';
import {
  createTestBus,
  createTestDatabase,
  FAKE_TELEGRAM_TOKEN,
  FakeTelegram,
  silentLogger,
  type TestBus,
  type TestDatabase,
  testEnvironment,
} from '@ibstack/test-kit';

import { notifierEnv, type NotifierConfig } from '../../src/config';
import { connectNotifier } from '../../src/adapters/connect';
import { createNotifierService, type NotifierService } from '../../src/service';

export const ALICE = { id: 111_111, username: 'alice', first_name: 'Alice' };
export const BOB = { id: 222_222, username: 'bob', first_name: 'Bob' };
export const MALLORY = { id: 666_666, username: 'mallory', first_name: 'Mallory' };
export const OPERATOR_CHAT = { id: ALICE.id };
export const VIEWER_CHAT = { id: BOB.id };
export const STRANGER_CHAT = { id: MALLORY.id };

export interface NotifierHarness {
  telegram: FakeTelegram;
  database: TestDatabase;
  testBus: TestBus;
  env: Record<string, string>;
  service: NotifierService;
  registry: Registry;
  config: NotifierConfig;
  /** Stops the service (and starts a new one over the same database, namespace and fake). */
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export function notifierEnvFor(
  telegram: FakeTelegram,
  database: TestDatabase,
  testBus: TestBus,
  env: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    NATS_URL: testEnvironment().natsUrl,
    BUS_NAMESPACE: testBus.namespace,
    HTTP_PORT: '0',
    TELEGRAM_BOT_TOKEN: FAKE_TELEGRAM_TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_CHATS: `${ALICE.id}:operator,${BOB.id}:viewer`,
    TELEGRAM_CHAT_INTERVAL_MS: '0',
    TELEGRAM_GLOBAL_INTERVAL_MS: '0',
    NOTIFIER_RETRY_BASE_MS: '50',
    DAILY_SUMMARY_CRON: 'off',
    REAUTH_REMINDER_CRON: 'off',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  };
}

/** `clock` pins the time the messages' calendars read (@default Date.now); it carries over a restart. */
export async function startNotifier(
  env: Record<string, string> = {},
  options: { clock?: () => number } = {},
): Promise<NotifierHarness> {
  const [telegram, database, testBus] = await Promise.all([
    FakeTelegram.start({ token: FAKE_TELEGRAM_TOKEN }),
    createTestDatabase(),
    createTestBus(),
  ]);
  let currentEnv = notifierEnvFor(telegram, database, testBus, env);
  const boot = async () => {
    const config = loadConfig('notifier', notifierEnv, currentEnv);
    const registry = createRegistry('notifier', { defaultMetrics: false });
    const logger = silentLogger('notifier');
    const connections = await connectNotifier(config, { logger, registry });
    const created = createNotifierService(config, {
      ...connections,
      logger,
      registry,
      http: false,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    // Stopping it also closes its connections, as main.ts does after the service stopped.
    const service = Object.assign(Object.create(created) as NotifierService, {
      stop: async () => {
        await created.stop();
        await connections.close();
      },
    });
    await service.start();
    return { config, registry, service };
  };
  let running = await boot();
  const harness: NotifierHarness = {
    telegram,
    database,
    testBus,
    get env() {
      return currentEnv;
    },
    get service() {
      return running.service;
    },
    get registry() {
      return running.registry;
    },
    get config() {
      return running.config;
    },
    restart: async (extra = {}) => {
      await running.service.stop();
      currentEnv = { ...currentEnv, ...extra };
      running = await boot();
    },
    close: async () => {
      await running.service.stop();
      await telegram.close();
      await testBus.destroy();
      await database.drop();
    },
  };
  return harness;
}

/** A counter's value from the registry (summed over the given labels). */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted))
    .reduce((sum, value) => sum + value.value, 0);
}
