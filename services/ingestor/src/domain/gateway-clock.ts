/**
 * Market time as the gateway sees it. Every market decision (is the market open, where does history end,
 * what time does a tick carry) uses the gateway's clock, learned from `reqCurrentTime` answers, not our
 * own: a real gateway's clock may differ from ours by seconds, and the simulated gateway's clock can run
 * many times faster than the wall clock.
 *
 * `reqCurrentTime` answers in whole seconds. The clock fits gateway time against our wall time over the
 * samples of the current session. When the samples are consistent with a clock that runs at our pace (the
 * normal case) the rate is exactly 1 and only the offset is estimated; otherwise the rate is estimated by
 * least squares. The clock never goes backwards.
 */
export interface GatewayClockOptions {
  /** Our wall clock (epoch ms). */
  wallClock: () => number;
  /** Samples kept for the fit. @default 120 */
  maxSamples?: number;
}

interface Sample {
  wall: number;
  /** Gateway time, epoch ms, at the middle of the reported second. */
  gateway: number;
}

/** The answer is truncated to the second, so any rate within this many seconds of drift counts as 1. */
const QUANTUM_MS = 1_000;

export class GatewayClock {
  private samples: Sample[] = [];
  private rate = 1;
  private offset = 0;
  private lastReturned = Number.NEGATIVE_INFINITY;
  private readonly maxSamples: number;

  constructor(private readonly options: GatewayClockOptions) {
    this.maxSamples = options.maxSamples ?? 120;
  }

  /** Whether at least one answer arrived in this session. */
  get calibrated(): boolean {
    return this.samples.length > 0;
  }

  /** How many gateway milliseconds pass per wall millisecond (1 for a real gateway). */
  get speed(): number {
    return this.rate;
  }

  /**
   * Forgets the samples (a new session may be a restarted simulator), keeping the pace as the first guess
   * for the next session. The clock still never goes back, so venue times of ticks stay in order across
   * reconnects.
   */
  reset(): void {
    this.samples = [];
  }

  /** Records a `currentTime` answer (epoch seconds) received now. */
  observe(gatewaySeconds: number, receivedAtWall = this.options.wallClock()): void {
    if (!Number.isFinite(gatewaySeconds) || gatewaySeconds <= 0) return;
    this.samples.push({ wall: receivedAtWall, gateway: gatewaySeconds * 1000 + QUANTUM_MS / 2 });
    if (this.samples.length > this.maxSamples) this.samples.shift();
    this.fit();
  }

  /**
   * Records a gateway event time that is known to have passed (a real-time bar's end). Only ever moves
   * the clock forward, so a slow sample cannot drag it back.
   */
  observeLowerBound(gatewayTime: number): void {
    if (gatewayTime > this.lastReturned) this.lastReturned = gatewayTime;
  }

  /** The gateway's time now (epoch ms); our wall clock until the first answer. */
  now(): number {
    const wall = this.options.wallClock();
    const estimate = this.samples.length === 0 ? wall : this.offset + this.rate * wall;
    this.lastReturned = Math.max(this.lastReturned, estimate);
    return this.lastReturned;
  }

  /** Wall milliseconds until the gateway clock reaches `gatewayTime` (0 if already past). */
  wallDelayUntil(gatewayTime: number): number {
    return Math.max(0, (gatewayTime - this.now()) / this.rate);
  }

  private fit(): void {
    const n = this.samples.length;
    const first = this.samples[0]!;
    const last = this.samples[n - 1]!;
    const wallSpan = last.wall - first.wall;
    const gatewaySpan = last.gateway - first.gateway;
    if (wallSpan === 0) {
      // One sample: keep the pace learned so far (1 for a fresh clock).
      this.offset = last.gateway - this.rate * last.wall;
      return;
    }
    // Consistent with our pace: keep rate 1 and average the offsets.
    if (Math.abs(gatewaySpan - wallSpan) <= 2 * QUANTUM_MS) {
      this.rate = 1;
      this.offset = this.samples.reduce((sum, s) => sum + (s.gateway - s.wall), 0) / n;
      return;
    }
    const meanWall = this.samples.reduce((sum, s) => sum + s.wall, 0) / n;
    const meanGateway = this.samples.reduce((sum, s) => sum + s.gateway, 0) / n;
    let covariance = 0;
    let variance = 0;
    for (const s of this.samples) {
      covariance += (s.wall - meanWall) * (s.gateway - meanGateway);
      variance += (s.wall - meanWall) ** 2;
    }
    this.rate = variance > 0 ? Math.max(covariance / variance, 1e-3) : 1;
    this.offset = meanGateway - this.rate * meanWall;
  }
}
