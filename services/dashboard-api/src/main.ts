import { loadConfigOrExit, tradingModeCheck } from '@ibstack/config';
import { createLogger, createRegistry, startOrExit, stopOnSignals } from '@ibstack/observability';

import { dashboardEnv } from './config';
import { createDashboardService } from './service';

const config = loadConfigOrExit('dashboard-api', dashboardEnv, process.env, { checks: [tradingModeCheck] });
const logger = createLogger({ service: 'dashboard-api', level: config.LOG_LEVEL });
const service = createDashboardService(config, { logger, registry: createRegistry('dashboard-api') });

stopOnSignals(logger, () => service.stop());
startOrExit(logger, 'dashboard-api', () => service.start());
