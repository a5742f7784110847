import { loadConfigOrExit } from '@ibstack/config';
import { createLogger } from '@ibstack/observability';

import { checkIngestorEnv, ingestorEnv } from './config';
import { defaultProgress } from './progress';
import { createIngestorService } from './service';

const config = loadConfigOrExit('ingestor', ingestorEnv, process.env, { checks: [checkIngestorEnv] });
const logger = createLogger({ service: 'ingestor', level: config.LOG_LEVEL });
const service = createIngestorService(config, { logger, progress: defaultProgress(logger) });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  try {
    // Writes the pending bar batch before closing Postgres.
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
  logger.fatal({ err: error }, `ingestor could not start: ${(error as Error).message}`);
  process.exit(1);
});
