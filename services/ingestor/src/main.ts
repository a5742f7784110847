// Wiring only: configuration, Postgres and NATS, the service, and a clean stop on signals.
import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, createRegistry, startOrExit, stopOnSignals } from '@ibstack/observability';

import { connectIngestor, type IngestorConnections } from './adapters/connect';
import { checkIngestorEnv, ingestorEnv } from './config';
import { defaultProgress } from './progress';
import { createIngestorService, type IngestorService } from './service';

const config = loadConfigOrExit('ingestor', ingestorEnv, process.env, { checks: [checkIngestorEnv] });
const logger = createLogger({ service: 'ingestor', level: config.LOG_LEVEL });
const registry = createRegistry('ingestor');
let connections: IngestorConnections | undefined;
let service: IngestorService | undefined;

// Writes the pending bar batch before closing Postgres.
stopOnSignals(logger, async () => {
  await service?.stop();
  await connections?.close();
});
startOrExit(logger, 'ingestor', async () => {
  connections = await connectIngestor(config, { logger, registry });
  service = createIngestorService(config, {
    database: connections.database,
    bus: connections.bus,
    logger,
    registry,
    progress: defaultProgress(logger),
  });
  await service.start();
});
