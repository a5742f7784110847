// Wiring only: configuration, adapters, the service, its HTTP endpoints, and a clean stop on signals.
import { Bus } from '@ibstack/bus';
import { loadConfigOrExit } from '@ibstack/config';
import { connectDatabase } from '@ibstack/db';
import { createLogger, createRegistry, startHealthServer, stopOnSignals } from '@ibstack/observability';

import { strategyEnv } from './config';
import { SleeveConfigError } from './errors';
import { createStrategyService } from './service';
import { loadSleevesFile } from './sleeves/config';
import { builtInStrategies } from './strategies';

async function main(): Promise<void> {
  const env = loadConfigOrExit('strategy', strategyEnv);
  const logger = createLogger({ service: 'strategy', level: env.LOG_LEVEL });
  let sleeves;
  try {
    sleeves = loadSleevesFile(env.SLEEVES_FILE, builtInStrategies());
  } catch (error) {
    if (error instanceof SleeveConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const registry = createRegistry('strategy');
  const database = await connectDatabase(env.DATABASE_URL, {
    applicationName: 'strategy',
    onError: (error) => logger.error({ err: error }, 'Postgres pool error'),
  });
  const bus = await Bus.connectService('strategy', env, { logger, registry });

  const service = createStrategyService(
    {
      sleeves,
      barAckWaitMs: env.BAR_ACK_WAIT_MS,
      maxBarDelayMs: env.MAX_BAR_DELAY_MS,
      outboxIntervalMs: env.OUTBOX_INTERVAL_MS,
      intentMaxAgeMs: env.INTENT_MAX_AGE_MS,
      pendingTtlMs: env.PENDING_INTENT_TTL_MS,
    },
    { db: database.db, bus, logger, registry },
  );
  const health = await startHealthServer({
    port: env.HTTP_PORT,
    registry,
    checks: [
      { name: 'nats', check: () => bus.isConnected() },
      { name: 'postgres', check: () => database.ping() },
      { name: 'started', check: () => service.isStarted() },
    ],
    routes: {
      '/status': (_req, res) => {
        const body = JSON.stringify({ sleeves: service.status() });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      },
    },
  });
  logger.info({ port: health.port, sleevesFile: env.SLEEVES_FILE }, 'strategy HTTP endpoints listening');

  stopOnSignals(logger, async () => {
    await service.stop();
    await health.close();
    await bus.close();
    await database.close();
  });

  await service.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `strategy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
