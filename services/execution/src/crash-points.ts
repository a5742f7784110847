/**
 * Named points in the order flow where a test can make the process die (SIGKILL, no cleanup), to prove
 * that a crash at any of them neither duplicates nor loses anything. Set by the test-only variable
 * `IBSTACK_CRASH_AT=<point>:<n>` (die the n-th time the point is reached); unset in production, where
 * `hit()` is a map lookup and nothing else.
 */
export const CRASH_POINTS = [
  'before_db_write',
  'after_db_write',
  'after_send',
  'after_ack',
  'after_fill_stored',
  /** Recovery has read the broker's open orders and executions and not yet settled ours. */
  'during_recovery',
  /** Reconciliation has compared and not yet stored, flagged or acted on the result. */
  'during_reconciliation',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export class CrashPoints {
  private readonly target: { point: CrashPoint; remaining: number } | undefined;

  constructor(spec: string | undefined) {
    if (!spec) return;
    const [point, count] = spec.split(':');
    if (!CRASH_POINTS.includes(point as CrashPoint))
      throw new Error(`IBSTACK_CRASH_AT: unknown crash point "${point}"`);
    this.target = { point: point as CrashPoint, remaining: Number(count ?? '1') };
  }

  hit(point: CrashPoint): void {
    if (this.target?.point !== point) return;
    this.target.remaining -= 1;
    if (this.target.remaining <= 0) {
      process.stdout.write(`crash point ${point} reached: killing the process\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }
}
