/**
 * Puts a notification in the outbox, trying again while Postgres is unavailable, for the events that no
 * NATS redelivery brings back: a trading-state change seen by the KV watcher, a scheduled message, a
 * command's late answer. Every failed attempt is counted (`notifier_enqueue_failures_total`) and logged
 * at error; attempts go on with doubling delays until it is queued or the notifier stops. What is still
 * not queued when it stops is counted as failed (`not_queued`), except a trading state, which the next
 * start tells (it tells every change newer than the last one told).
 */
import type { Logger } from '@ibstack/observability';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';

import type { NotificationName } from './domain/notifications';
import type { NotifierMetrics } from './metrics';

export interface EnqueueRetrierOptions {
  metrics: NotifierMetrics;
  log: Logger;
  /** First delay after a failure; doubled each time up to `maxDelayMs`. */
  baseDelayMs: number;
  /** @default 30000 */
  maxDelayMs?: number;
}

export class EnqueueRetrier {
  private readonly stopping = new AbortController();

  constructor(private readonly options: EnqueueRetrierOptions) {}

  /** Resolves true once `queue` succeeded, false when the notifier stopped first. */
  async run(kind: NotificationName, what: string, queue: () => Promise<unknown>): Promise<boolean> {
    const { metrics, log } = this.options;
    if (this.stopping.signal.aborted) return false;
    const policy = retry(handleAll, {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      backoff: new ExponentialBackoff({
        initialDelay: this.options.baseDelayMs,
        maxDelay: this.options.maxDelayMs ?? 30_000,
      }),
    });
    policy.onRetry((reason) => {
      metrics.enqueueFailures.inc({ kind });
      log.error(
        { err: 'error' in reason ? reason.error : undefined, kind, attempt: reason.attempt },
        `could not queue ${what}; trying again in ${Math.round(reason.delay)} ms`,
      );
    });
    try {
      await policy.execute(() => queue(), this.stopping.signal);
      return true;
    } catch (error) {
      // Only a stop ends the retries: the attempt in progress failed, or the delay before the next was cut.
      const toldAtNextStart = kind === 'trading_state';
      if (!toldAtNextStart) metrics.failed.inc({ kind, reason: 'not_queued' });
      log.error(
        { err: error, kind },
        `could not queue ${what} before stopping; ${toldAtNextStart ? 'the next start tells it' : 'it is not sent'}`,
      );
      return false;
    }
  }

  /** Ends the retries in progress (their `run` resolves false). */
  stop(): void {
    this.stopping.abort();
  }
}
