/**
 * Trips when more than `maxErrors` API errors happen within `windowMs`, so a flapping gateway cannot
 * make the bot trade blind. Pure apart from the clock it is given; once tripped it stays tripped until
 * `reset()` (an operator resume).
 */
export class ErrorCircuit {
  private readonly times: number[] = [];
  private trippedAt: number | null = null;

  constructor(
    private readonly maxErrors: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Records one error; returns true if this error tripped the circuit. */
  record(): boolean {
    const now = this.now();
    this.times.push(now);
    while (this.times.length > 0 && this.times[0]! <= now - this.windowMs) this.times.shift();
    if (this.trippedAt === null && this.times.length > this.maxErrors) {
      this.trippedAt = now;
      return true;
    }
    return false;
  }

  get tripped(): boolean {
    return this.trippedAt !== null;
  }

  get recentErrors(): number {
    return this.times.length;
  }

  reset(): void {
    this.trippedAt = null;
    this.times.length = 0;
  }
}
