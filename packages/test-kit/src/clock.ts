/** A clock tests move by hand; production code takes `() => number` (epoch ms) and gets `Date.now`. */
export class ManualClock {
  constructor(private nowMs: number = Date.parse('2026-11-24T15:00:00.000Z')) {}

  readonly now = (): number => this.nowMs;

  advance(ms: number): void {
    this.nowMs += ms;
  }

  set(ms: number | string): void {
    this.nowMs = typeof ms === 'string' ? Date.parse(ms) : ms;
  }
}

/**
 * A clock that reads `startMs` now and runs in real time from there: for a service under test whose
 * result depends on the time of day (the 17:00 New York trading-day roll, a reset window, midnight), so
 * the test does not depend on when CI runs it, while timeouts and intervals stay real.
 */
export function runningClockFrom(startMs: number | string): () => number {
  const start = typeof startMs === 'string' ? Date.parse(startMs) : startMs;
  const realStart = Date.now();
  return () => start + (Date.now() - realStart);
}
