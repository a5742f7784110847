/**
 * Where decided fills wait before they reach the account and the client: the fault API can delay every fill
 * by a fixed time or withhold them all until released. Fills leave in the order they were decided.
 */
import type { FillDecision } from './broker';

export interface Timers {
  setTimeout(callback: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(timer: NodeJS.Timeout): void;
}

export class FillGate {
  private delayMs = 0;
  private withholding = false;
  private readonly held: FillDecision[] = [];
  private readonly delayed = new Map<NodeJS.Timeout, FillDecision>();

  constructor(
    private readonly release: (fill: FillDecision) => void,
    private readonly timers: Timers = { setTimeout, clearTimeout },
  ) {}

  get state(): { delayMs: number; withholding: boolean; held: number; delayed: number } {
    return {
      delayMs: this.delayMs,
      withholding: this.withholding,
      held: this.held.length,
      delayed: this.delayed.size,
    };
  }

  submit(fill: FillDecision): void {
    if (this.withholding) {
      this.held.push(fill);
      return;
    }
    if (this.delayMs > 0) {
      const timer = this.timers.setTimeout(() => {
        this.delayed.delete(timer);
        this.release(fill);
      }, this.delayMs);
      this.delayed.set(timer, fill);
      return;
    }
    this.release(fill);
  }

  setDelay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  /** Withholding on queues every fill; off releases the queue at once, in order. */
  setWithhold(on: boolean): void {
    this.withholding = on;
    if (!on) this.flushHeld();
  }

  /** Releases everything now: held and delayed fills (for fills while nobody is connected). */
  releaseAll(): void {
    const delayed = [...this.delayed];
    this.delayed.clear();
    for (const [timer, fill] of delayed) {
      this.timers.clearTimeout(timer);
      this.release(fill);
    }
    this.flushHeld();
  }

  close(): void {
    for (const timer of this.delayed.keys()) this.timers.clearTimeout(timer);
    this.delayed.clear();
    this.held.length = 0;
  }

  private flushHeld(): void {
    for (const fill of this.held.splice(0)) this.release(fill);
  }
}
