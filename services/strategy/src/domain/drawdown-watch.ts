import type { DrawdownLevel } from '@ibstack/risk';

/**
 * Decides what a change in the account's drawdown level calls for. Pure state; the caller acts.
 *
 * Invariants:
 * - A warning once per move up from normal.
 * - REDUCING once per crossing of the reducing threshold: an operator who resumes trading is not overruled
 *   until drawdown falls back below the threshold and crosses it again (the per-order drawdown rule still
 *   blocks risk-increasing orders meanwhile). A switch that failed is tried again on the next snapshot.
 */
export class DrawdownWatch {
  private level: DrawdownLevel = 'normal';
  private reducingRequested = false;

  /** Takes the level of the latest snapshot. */
  observe(level: DrawdownLevel): { warn: boolean; reduce: boolean } {
    const previous = this.level;
    this.level = level;
    const warn = level !== 'normal' && previous === 'normal';
    if (level !== 'reducing') {
      this.reducingRequested = false;
      return { warn, reduce: false };
    }
    const reduce = !this.reducingRequested;
    this.reducingRequested = true;
    return { warn, reduce };
  }

  /** The switch to REDUCING did not happen; the next snapshot past the threshold asks again. */
  reduceFailed(): void {
    this.reducingRequested = false;
  }
}
