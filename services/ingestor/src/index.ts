export { createIngestorService, type IngestorService, type IngestorServiceDependencies } from './service';
export { ingestorEnv, checkIngestorEnv, type IngestorConfig } from './config';
export { defaultProgress, logProgress, terminalProgress, type ProgressReporter } from './progress';
