// Wiring only: configuration, Postgres, NATS and the lease bucket, the service, and a clean stop on signals.
import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, createRegistry, startOrExit, stopOnSignals } from '@ibstack/observability';

import { connectExecution, type ExecutionConnections } from './adapters/connect';
import { executionChecks, executionEnv } from './config';
import { createExecutionService, type ExecutionService } from './service';

const config = loadConfigOrExit('execution', executionEnv, process.env, { checks: executionChecks });
const logger = createLogger({ service: 'execution', level: config.LOG_LEVEL });
const registry = createRegistry('execution');
let connections: ExecutionConnections | undefined;
let service: ExecutionService | undefined;

// Records the order in flight and flushes the outbox before closing NATS and Postgres.
stopOnSignals(logger, async () => {
  await service?.stop();
  await connections?.close();
});
startOrExit(logger, 'execution', async () => {
  connections = await connectExecution(config, { logger, registry });
  service = createExecutionService(config, { ...connections, logger, registry });
  await service.start();
});
