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
  return {
    speed,
    now: () => start + (wallClock() - wallStart) * speed,
    wallNow: wallClock,
    wallDelayUntil(simTime: number) {
      const simNow = start + (wallClock() - wallStart) * speed;
      return Math.max(0, (simTime - simNow) / speed);
    },
  };
}
