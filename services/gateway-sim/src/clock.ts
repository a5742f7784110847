/**
 * The simulated clock: sim time = start + wall elapsed × speed. Tests run an hour of market in seconds with
 * a speed of 3600 while timestamps stay realistic. The wall clock is injected so the clock itself is testable.
 */
export interface SimClock {
  /** Simulated epoch ms. */
  now(): number;
  readonly speed: number;
  /** Wall-clock ms (for rules IB measures in real time, like historical-data pacing). */
  wallNow(): number;
  /** Wall milliseconds until simulated time reaches `simTime` (0 if already past). */
  wallDelayUntil(simTime: number): number;
  /** Moves simulated time forward at once (time that passes while nobody is connected). */
  advance(ms: number): void;
}

export function createSimClock(options: {
  start?: number | string;
  speed?: number;
  wallClock?: () => number;
}): SimClock {
  const wallClock = options.wallClock ?? Date.now;
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`clock speed must be positive, got ${speed}`);
  const wallStart = wallClock();
  const start =
    options.start === undefined
      ? wallStart
      : typeof options.start === 'number'
        ? options.start
        : Date.parse(options.start);
  if (!Number.isFinite(start)) throw new RangeError(`invalid clock start "${String(options.start)}"`);
  let skipped = 0;
  const now = () => start + skipped + (wallClock() - wallStart) * speed;
  return {
    speed,
    now,
    wallNow: wallClock,
    wallDelayUntil(simTime: number) {
      return Math.max(0, (simTime - now()) / speed);
    },
    advance(ms: number) {
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`cannot advance the clock by ${ms} ms`);
      skipped += ms;
    },
  };
}
