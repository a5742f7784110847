import { loadConfigOrExit, tradingModeCheck } from '@ibstack/config';
import { checkPortMatchesMode } from '@ibstack/ib';
import { createLogger } from '@ibstack/observability';

import { executionEnv } from './config';
import { createExecutionService } from './service';

const config = loadConfigOrExit('execution', executionEnv, process.env, {
  checks: [
    tradingModeCheck,
    (env) => {
      const live = (env.TRADING_MODE ?? 'paper').toLowerCase() === 'live';
      return checkPortMatchesMode(live ? 'live' : 'paper', Number(env.IB_PORT ?? 4002));
    },
  ],
});
const logger = createLogger({ service: 'execution', level: config.LOG_LEVEL });
const service = createExecutionService(config, { logger });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  try {
    await service.stop();
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'unclean stop');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

service.start().catch((error: unknown) => {
  logger.fatal({ err: error }, `execution could not start: ${(error as Error).message}`);
  process.exit(1);
});
