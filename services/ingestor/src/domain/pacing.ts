/**
 * IB's historical-data pacing rules, as a limiter that says how long a request must wait rather than
 * letting the gateway refuse it (error 162, and the data is lost until someone asks again):
 *
 * - no more than `maxRequests` (60) requests within any `windowMs` (10 minutes);
 * - no identical request within `identicalWindowMs` (15 seconds);
 * - no more than `sameContractMaxRequests` (5; IB: "six or more … is a violation") requests for the same
 *   contract within `sameContractWindowMs` (2 seconds).
 *
 * IB measures these in real time, so the clock here is the wall clock, never the gateway's market clock.
 * A request of weight 2 (IB counts BID_ASK twice) takes two places. Pure: time comes from `clock`, and a
 * request is only counted once the caller says it was sent.
 *
 * IB keeps counting across our restarts, so the limiter can start from the requests sent before it
 * existed (`past`, as `record` returned them and the caller stored them); without them a restart right
 * after a large backfill would send a full window's worth at once and be refused for ten minutes.
 */
export interface PacingLimits {
  /** @default 60 */
  maxRequests: number;
  /** @default 600000 */
  windowMs: number;
  /** @default 15000 */
  identicalWindowMs: number;
  /** @default 5 */
  sameContractMaxRequests: number;
  /** @default 2000 */
  sameContractWindowMs: number;
  /** Added to every wait, for skew between our clock and the gateway's. @default 100 */
  marginMs: number;
}

export const IB_PACING_LIMITS: Readonly<PacingLimits> = {
  maxRequests: 60,
  windowMs: 600_000,
  identicalWindowMs: 15_000,
  sameContractMaxRequests: 5,
  sameContractWindowMs: 2_000,
  marginMs: 100,
};

export interface PacedRequest {
  /** Everything that makes two requests identical (contract, end, duration, bar size, what to show…). */
  identity: string;
  /** The contract (and what to show) the same-contract rule groups by. */
  contract: string;
  /** @default 1 */
  weight?: number;
}

/** A request as counted: when it was sent (the limiter's clock, epoch ms) and what it was. */
export interface PacingRecord {
  at: number;
  identity: string;
  contract: string;
  weight: number;
}

/** How long a sent request matters to any rule: records older than this can be forgotten. */
export function pacingHorizonMs(limits: Readonly<PacingLimits>): number {
  return Math.max(limits.windowMs, limits.identicalWindowMs, limits.sameContractWindowMs) + limits.marginMs;
}

export class PacingLimiter {
  private sent: PacingRecord[];

  /** @param past requests sent before this limiter existed (by an earlier run), in any order. */
  constructor(
    readonly limits: Readonly<PacingLimits>,
    private readonly clock: () => number,
    past: readonly PacingRecord[] = [],
  ) {
    this.sent = [];
    this.restore(past);
  }

  /** Counts requests sent before this limiter existed (by an earlier run), in any order, as sent. */
  restore(past: readonly PacingRecord[]): void {
    // Oldest first, which prune relies on.
    this.sent = [...this.sent, ...past.map((entry) => ({ ...entry }))].sort((a, b) => a.at - b.at);
    this.prune(this.clock());
  }

  /** Milliseconds the request must wait before it may be sent; 0 when it may go now. */
  delayFor(request: PacedRequest): number {
    const now = this.clock();
    this.prune(now);
    const weight = request.weight ?? 1;
    const { limits } = this;
    let earliest = now;
    const identical = this.sent.filter((entry) => entry.identity === request.identity);
    if (identical.length > 0) {
      const latest = Math.max(...identical.map((entry) => entry.at));
      earliest = Math.max(earliest, latest + limits.identicalWindowMs + limits.marginMs);
    }
    earliest = Math.max(
      earliest,
      this.earliestWithin(
        this.sent.filter((entry) => entry.contract === request.contract),
        weight,
        limits.sameContractMaxRequests,
        limits.sameContractWindowMs,
      ),
      this.earliestWithin(this.sent, weight, limits.maxRequests, limits.windowMs),
    );
    return Math.max(0, earliest - now);
  }

  /** Counts a request as sent now; returns the record, for the caller to keep across a restart. */
  record(request: PacedRequest): PacingRecord {
    const entry: PacingRecord = {
      at: this.clock(),
      identity: request.identity,
      contract: request.contract,
      weight: request.weight ?? 1,
    };
    this.sent.push(entry);
    return { ...entry };
  }

  /** Requests counted in the longest window (for metrics and tests). */
  get recentRequests(): number {
    this.prune(this.clock());
    return this.sent.reduce((sum, entry) => sum + entry.weight, 0);
  }

  /**
   * The earliest time at which `weight` more requests keep the count of requests sent within the last
   * `windowMs` at or below `max`. A request sent at `at` counts while `now - at < windowMs`.
   */
  private earliestWithin(
    entries: readonly PacingRecord[],
    weight: number,
    max: number,
    windowMs: number,
  ): number {
    // Expand weights into one timestamp per counted place, oldest first.
    const times: number[] = [];
    for (const entry of entries) for (let i = 0; i < entry.weight; i++) times.push(entry.at);
    times.sort((a, b) => a - b);
    const mustExpire = times.length + weight - max;
    if (mustExpire <= 0) return Number.NEGATIVE_INFINITY;
    if (mustExpire > times.length) return Number.POSITIVE_INFINITY; // heavier than the rule allows at all
    return times[mustExpire - 1]! + windowMs + this.limits.marginMs;
  }

  private prune(now: number): void {
    const horizon = pacingHorizonMs(this.limits);
    if (this.sent.length > 0 && now - this.sent[0]!.at >= horizon)
      this.sent = this.sent.filter((entry) => now - entry.at < horizon);
  }
}
