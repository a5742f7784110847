// Wiring only: configuration, Postgres and NATS, the service, and a clean stop on signals.
import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, createRegistry, stopOnSignals } from '@ibstack/observability';

import { connectNotifier, type NotifierConnections } from './adapters/connect';
import { notifierEnv } from './config';
import { TelegramTokenRejectedError } from './errors';
import { createNotifierService, type NotifierService } from './service';

const config = loadConfigOrExit('notifier', notifierEnv);
const logger = createLogger({ service: 'notifier', level: config.LOG_LEVEL });
const registry = createRegistry('notifier');
let connections: NotifierConnections | undefined;
let service: NotifierService | undefined;

const stop = async () => {
  await service?.stop();
  await connections?.close();
};
stopOnSignals(logger, stop);
(async () => {
  connections = await connectNotifier(config, { logger, registry });
  service = createNotifierService(config, { ...connections, logger, registry });
  await service.start();
})().catch(async (error: unknown) => {
  // A rejected token is a configuration error: restarting would only ask Telegram again.
  const rejected = error instanceof TelegramTokenRejectedError;
  logger.fatal({ err: error }, `notifier could not start: ${(error as Error).message}`);
  await stop().catch(() => undefined);
  process.exit(rejected ? 78 : 1);
});
