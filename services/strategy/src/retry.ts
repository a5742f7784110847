import { type Backoff, backoffDelayMs } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import { ServiceStoppingError } from './errors';

const RETRY: Backoff = { firstMs: 100, maxMs: 5_000 };

/**
 * Runs `work` until it succeeds, backing off from 100 ms to 5 s between attempts. Gives up only when the
 * service is stopping (with ServiceStoppingError), so the message in hand is redelivered rather than lost.
 */
export async function retryUntilStopped<T>(
  what: string,
  work: () => Promise<T>,
  options: { log: Logger; isStopping: () => boolean },
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (options.isStopping()) throw new ServiceStoppingError();
      const delayMs = backoffDelayMs(attempt, RETRY);
      options.log.error({ err: error, attempt }, `${what} failed; retrying in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
