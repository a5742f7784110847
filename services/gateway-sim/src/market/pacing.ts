/**
 * IB's historical-data pacing rules, measured in wall-clock time because IB paces real requests:
 * - no identical request within 15 seconds;
 * - no more than 5 requests for the same contract, exchange and tick type within 2 seconds (the 6th violates);
 * - no more than 60 requests within any 10 minutes.
 * A BID_ASK request counts twice, as IB documents. A refused request is not recorded, so a client that backs
 * off for the window is served again.
 */
export interface PacingRequest {
  /** Everything that makes two requests identical (contract, end, duration, bar size, what, RTH, format). */
  identity: string;
  /** Contract + exchange + tick type. */
  series: string;
  weight: 1 | 2;
}

export type PacingVerdict = { ok: true } | { ok: false; rule: 'identical' | 'same-series' | 'ten-minutes' };

export const PACING_LIMITS = {
  identicalWindowMs: 15_000,
  seriesWindowMs: 2_000,
  seriesMaxRequests: 5,
  globalWindowMs: 600_000,
  globalMaxRequests: 60,
} as const;

interface Entry {
  at: number;
  identity: string;
  series: string;
  weight: number;
}

export class HistoricalPacing {
  private entries: Entry[] = [];

  constructor(private readonly wallClock: () => number = Date.now) {}

  /** Checks a request against the rules and records it. */
  admit(request: PacingRequest): PacingVerdict {
    const now = this.wallClock();
    this.entries = this.entries.filter((entry) => now - entry.at < PACING_LIMITS.globalWindowMs);
    const verdict = this.check(request, now);
    if (verdict.ok) this.entries.push({ at: now, ...request });
    return verdict;
  }

  private check(request: PacingRequest, now: number): PacingVerdict {
    if (
      this.entries.some(
        (e) => e.identity === request.identity && now - e.at < PACING_LIMITS.identicalWindowMs,
      )
    ) {
      return { ok: false, rule: 'identical' };
    }
    const sameSeries = this.entries
      .filter((e) => e.series === request.series && now - e.at < PACING_LIMITS.seriesWindowMs)
      .reduce((sum, e) => sum + e.weight, 0);
    if (sameSeries + request.weight > PACING_LIMITS.seriesMaxRequests)
      return { ok: false, rule: 'same-series' };
    const total = this.entries.reduce((sum, e) => sum + e.weight, 0);
    if (total + request.weight > PACING_LIMITS.globalMaxRequests) return { ok: false, rule: 'ten-minutes' };
    return { ok: true };
  }
}
