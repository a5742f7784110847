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
