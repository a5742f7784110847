import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, startOrExit, stopOnSignals } from '@ibstack/observability';

import { checkIngestorEnv, ingestorEnv } from './config';
import { defaultProgress } from './progress';
import { createIngestorService } from './service';

const config = loadConfigOrExit('ingestor', ingestorEnv, process.env, { checks: [checkIngestorEnv] });
const logger = createLogger({ service: 'ingestor', level: config.LOG_LEVEL });
const service = createIngestorService(config, { logger, progress: defaultProgress(logger) });

// Writes the pending bar batch before closing Postgres.
stopOnSignals(logger, () => service.stop());
startOrExit(logger, 'ingestor', () => service.start());
