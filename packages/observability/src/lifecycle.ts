import type { Logger } from './logger';

/**
 * Stops a service once on SIGTERM, SIGINT or SIGHUP and exits: 0 after a clean stop, 1 if stopping
 * failed. A second signal while stopping is ignored, so Ctrl-C twice does not cut a stop that is flushing
 * writes. Under the stack runner (`IBSTACK_PARENT_PID`), it also stops when the runner has gone without
 * stopping it (killed, or its terminal closed): a service must not go on trading unsupervised.
 */
export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  parentPid: number = Number(process.env.IBSTACK_PARENT_PID ?? 0),
): void {
  let stopping = false;
  const onSignal = (signal: string) => {
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
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => onSignal(signal));
  if (parentPid > 0) {
    const watch = setInterval(() => {
      if (process.ppid !== parentPid) {
        clearInterval(watch);
        logger.warn({ parentPid }, 'the stack runner is gone; stopping');
        onSignal('parent gone');
      }
    }, 1_000);
    watch.unref();
  }
}

/** Starts a service, or logs why it could not and exits 1. */
export function startOrExit(logger: Logger, name: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    logger.fatal({ err: error }, `${name} could not start: ${(error as Error).message}`);
    process.exit(1);
  });
}
