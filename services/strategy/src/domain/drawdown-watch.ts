import { type DrawdownLevel, tradingDayStart } from '@ibstack/risk';

/**
 * Decides what a change in the account's drawdown level calls for. Pure state; the caller acts.
 *
 * Invariants:
 * - A warning on a move up from normal, at most once per trading day (17:00 New York to 17:00): a drawdown
 *   that hovers at the warning threshold crosses it back and forth with every snapshot, and a warning per
 *   crossing floods the operator's phone with the same news. A move straight past the reducing threshold
 *   is not held back, since the REDUCING switch is news of its own.
 * - REDUCING once per crossing of the reducing threshold: an operator who resumes trading is not overruled
 *   until drawdown falls back below the threshold and crosses it again (the per-order drawdown rule still
 *   blocks risk-increasing orders meanwhile). A switch that failed is tried again on the next snapshot.
 */
export class DrawdownWatch {
  private level: DrawdownLevel = 'normal';
  private reducingRequested = false;
  /** Start of the trading day of the last warning (epoch ms), or null before the first. */
  private warnedDay: number | null = null;

  /** Takes the level of the latest snapshot, and the snapshot's time (epoch ms). */
  observe(level: DrawdownLevel, atMs: number): { warn: boolean; reduce: boolean } {
    const previous = this.level;
    this.level = level;
    const warn = level !== 'normal' && previous === 'normal' && this.mayWarn(level, atMs);
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

  private mayWarn(level: DrawdownLevel, atMs: number): boolean {
    const day = tradingDayStart(atMs);
    if (level === 'warning' && this.warnedDay === day) return false;
    this.warnedDay = day;
    return true;
  }
}
