/** How long a retry waits: capped exponential backoff, the one copy every package and service uses. */
export interface Backoff {
  /** The wait before the first retry, ms. */
  firstMs: number;
  /** No wait is longer than this, ms. */
  maxMs: number;
  /** @default 2 */
  multiplier?: number;
}

/**
 * The wait before retry number `attempt` (1 for the first): `firstMs × multiplier^(attempt − 1)`, at most
 * `maxMs`. An attempt below 1 waits `firstMs`.
 */
export function backoffDelayMs(attempt: number, backoff: Backoff): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(backoff.firstMs * (backoff.multiplier ?? 2) ** exponent, backoff.maxMs);
}
