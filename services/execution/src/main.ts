import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, startOrExit, stopOnSignals } from '@ibstack/observability';

import { executionChecks, executionEnv } from './config';
import { createExecutionService } from './service';

const config = loadConfigOrExit('execution', executionEnv, process.env, { checks: executionChecks });
const logger = createLogger({ service: 'execution', level: config.LOG_LEVEL });
const service = createExecutionService(config, { logger });

stopOnSignals(logger, () => service.stop());
startOrExit(logger, 'execution', () => service.start());
