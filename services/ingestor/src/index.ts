export { createIngestorService, type IngestorService, type IngestorServiceDeps } from './service';
export { connectIngestor, type IngestorConnections } from './adapters/connect';
export { ingestorEnv, checkIngestorEnv, type IngestorConfig } from './config';
export { defaultProgress, logProgress, terminalProgress, type ProgressReporter } from './progress';
