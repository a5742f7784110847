/**
 * Staleness of an instrument's ticks: how long since the last one, counted only while the market is open.
 * A closed market is never stale, and the count restarts when the market opens (the first tick of a
 * session may take a moment), so a weekend or a night never raises an alert. Times are our wall clock:
 * staleness is about our feed, which is what an operator's alert measures against.
 */
export interface StalenessVerdict {
  /** Seconds without a tick while open; 0 while closed. */
  stalenessSeconds: number;
  stale: boolean;
  /** Set when the verdict changed with this evaluation. */
  transition?: 'became_stale' | 'recovered';
}

export class StalenessMonitor {
  private openedAt: number | undefined;
  private lastTickAt: number | undefined;
  private staleNow = false;

  constructor(private readonly staleAfterMs: number) {}

  /** A tick arrived at wall time `at`. */
  tick(at: number): void {
    this.lastTickAt = at;
  }

  get isStale(): boolean {
    return this.staleNow;
  }

  /** Evaluates at wall time `now`; `marketOpen` comes from the trading calendar at gateway time. */
  evaluate(now: number, marketOpen: boolean): StalenessVerdict {
    if (!marketOpen) {
      this.openedAt = undefined;
      return this.settle(false, 0);
    }
    if (this.openedAt === undefined) this.openedAt = now;
    const since = Math.max(this.lastTickAt ?? Number.NEGATIVE_INFINITY, this.openedAt);
    const silentMs = Math.max(0, now - since);
    return this.settle(silentMs >= this.staleAfterMs, silentMs / 1000);
  }

  private settle(stale: boolean, stalenessSeconds: number): StalenessVerdict {
    const changed = stale !== this.staleNow;
    this.staleNow = stale;
    const verdict: StalenessVerdict = { stale, stalenessSeconds };
    if (changed) verdict.transition = stale ? 'became_stale' : 'recovered';
    return verdict;
  }
}
