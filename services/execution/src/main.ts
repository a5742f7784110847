import { loadConfigOrExit, tradingModeCheck } from '@ibstack/config';
import { checkPortMatchesMode } from '@ibstack/ib';
import { createLogger, startOrExit, stopOnSignals } from '@ibstack/observability';

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

stopOnSignals(logger, () => service.stop());
startOrExit(logger, 'execution', () => service.start());
