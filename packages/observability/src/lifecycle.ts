import type { Logger } from './logger';

/**
 * Stops a service once on SIGTERM or SIGINT and exits: 0 after a clean stop, 1 if stopping failed. A
 * second signal while stopping is ignored, so Ctrl-C twice does not cut a stop that is flushing writes.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Starts a service, or logs why it could not and exits 1. */
export function startOrExit(logger: Logger, name: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    logger.fatal({ err: error }, `${name} could not start: ${(error as Error).message}`);
    process.exit(1);
  });
}
