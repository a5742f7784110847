// Wiring only: configuration, Postgres and NATS, the service, and a clean stop on signals.
import { loadConfigOrExit, tradingModeCheck } from '@ibstack/config';
import { createLogger, createRegistry, startOrExit, stopOnSignals } from '@ibstack/observability';

import { connectDashboard, type DashboardConnections } from './adapters/connect';
import { dashboardEnv } from './config';
import { createDashboardService, type DashboardService } from './service';

const config = loadConfigOrExit('dashboard-api', dashboardEnv, process.env, { checks: [tradingModeCheck] });
const logger = createLogger({ service: 'dashboard-api', level: config.LOG_LEVEL });
const registry = createRegistry('dashboard-api');
let connections: DashboardConnections | undefined;
let service: DashboardService | undefined;

stopOnSignals(logger, async () => {
  await service?.stop();
  await connections?.close();
});
startOrExit(logger, 'dashboard-api', async () => {
  connections = await connectDashboard(config, { logger, registry });
  service = createDashboardService(config, { ...connections, logger, registry });
  await service.start();
});
