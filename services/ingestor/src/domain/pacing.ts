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

interface Sent {
  at: number;
  identity: string;
  contract: string;
  weight: number;
}

export class PacingLimiter {
  private sent: Sent[] = [];

  constructor(
    readonly limits: Readonly<PacingLimits>,
    private readonly clock: () => number,
  ) {}

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

  /** Counts a request as sent now. */
  record(request: PacedRequest): void {
    this.sent.push({
      at: this.clock(),
      identity: request.identity,
      contract: request.contract,
      weight: request.weight ?? 1,
    });
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
  private earliestWithin(entries: readonly Sent[], weight: number, max: number, windowMs: number): number {
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
    const horizon =
      Math.max(this.limits.windowMs, this.limits.identicalWindowMs, this.limits.sameContractWindowMs) +
      this.limits.marginMs;
    if (this.sent.length > 0 && now - this.sent[0]!.at >= horizon)
      this.sent = this.sent.filter((entry) => now - entry.at < horizon);
  }
}
