import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, createRegistry, stopOnSignals } from '@ibstack/observability';

import { notifierEnv } from './config';
import { TelegramTokenRejectedError } from './errors';
import { createNotifierService } from './service';

const config = loadConfigOrExit('notifier', notifierEnv);
const logger = createLogger({ service: 'notifier', level: config.LOG_LEVEL });
const service = createNotifierService(config, { logger, registry: createRegistry('notifier') });

stopOnSignals(logger, () => service.stop());
service.start().catch(async (error: unknown) => {
  // A rejected token is a configuration error: restarting would only ask Telegram again.
  const rejected = error instanceof TelegramTokenRejectedError;
  logger.fatal({ err: error }, `notifier could not start: ${(error as Error).message}`);
  await service.stop().catch(() => undefined);
  process.exit(rejected ? 78 : 1);
});
