import { createLogger, type Logger } from '@ibstack/observability';

/** A logger for tests: silent unless TEST_LOG_LEVEL is set (`TEST_LOG_LEVEL=debug npm test`). */
export function silentLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}
