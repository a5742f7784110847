/**
 * The deploy's health gate: a new version passes when every service of ours answers /readyz with 200 and
 * execution has reconciled with the broker cleanly since the deploy began, within a deadline. A
 * reconciliation that finds a mismatch fails the gate at once (execution has halted trading; waiting
 * longer changes nothing). A run that could not compare (the broker did not answer) is no verdict: the
 * gate waits for the next.
 */
import type { DatabaseHandle } from '@ibstack/db';

type Db = DatabaseHandle['db'];

export interface GateTarget {
  readonly name: string;
  /** Base URL; /readyz is asked. */
  readonly url: string;
}

export interface ServiceReadiness {
  readonly ready: boolean;
  /** Why not, for the report: the status and body of /readyz, or the connection error. */
  readonly detail: string;
}

export type ReconciliationSeen =
  | { readonly state: 'none' }
  | { readonly state: 'clean'; readonly trigger: string; readonly at: string }
  | {
      readonly state: 'mismatch';
      readonly trigger: string;
      readonly at: string;
      readonly mismatches: string[];
    }
  | { readonly state: 'incomplete'; readonly at: string; readonly error: string };

export interface GateObservation {
  readonly services: Readonly<Record<string, ServiceReadiness>>;
  readonly reconciliation: ReconciliationSeen;
}

export interface GateVerdict {
  /** passed: all good; failed: a mismatch, no point waiting; waiting: not yet. */
  readonly outcome: 'passed' | 'failed' | 'waiting';
  readonly reasons: readonly string[];
}

export function gateVerdict(observation: GateObservation): GateVerdict {
  const reasons: string[] = [];
  for (const [name, readiness] of Object.entries(observation.services))
    if (!readiness.ready) reasons.push(`${name} not ready (${readiness.detail})`);
  const reconciliation = observation.reconciliation;
  switch (reconciliation.state) {
    case 'mismatch':
      return {
        outcome: 'failed',
        reasons: [
          ...reasons,
          `reconciliation (${reconciliation.trigger}, ${reconciliation.at}) found a mismatch: ${reconciliation.mismatches.join('; ')}`,
        ],
      };
    case 'none':
      reasons.push('no reconciliation since the deploy began');
      break;
    case 'incomplete':
      reasons.push(
        `the last reconciliation could not compare (${reconciliation.error}); waiting for the next`,
      );
      break;
    case 'clean':
      break;
  }
  return { outcome: reasons.length === 0 ? 'passed' : 'waiting', reasons };
}

/** One look at /readyz. */
export async function readinessOf(target: GateTarget, timeoutMs = 3_000): Promise<ServiceReadiness> {
  try {
    const response = await fetch(new URL('/readyz', target.url), { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.text()).slice(0, 300);
    return response.status === 200
      ? { ready: true, detail: 'ready' }
      : { ready: false, detail: `/readyz ${response.status}${body ? `: ${body}` : ''}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ready: false, detail: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

/** The newest reconciliation run that started at or after `since`. */
export async function reconciliationSince(db: Db, since: Date): Promise<ReconciliationSeen> {
  const run = await db
    .selectFrom('reconciliation_runs')
    .select(['ok', 'trigger', 'finished_at', 'mismatches', 'error'])
    .where('started_at', '>=', since)
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!run) return { state: 'none' };
  const at = run.finished_at.toISOString();
  if (run.ok) return { state: 'clean', trigger: run.trigger, at };
  if (run.error) return { state: 'incomplete', at, error: run.error };
  const mismatches = (run.mismatches as Array<{ kind?: string; detail?: string }>).map((mismatch) =>
    `${mismatch.kind ?? 'mismatch'}: ${mismatch.detail ?? ''}`.trim(),
  );
  return { state: 'mismatch', trigger: run.trigger, at, mismatches };
}

export interface GateOptions {
  readonly targets: readonly GateTarget[];
  readonly since: Date;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Progress while waiting (every ~10 s) for a log that shows the deploy is alive. */
  readonly progress?: (verdict: GateVerdict, elapsedMs: number) => void;
}

export interface GateResult extends GateVerdict {
  readonly outcome: 'passed' | 'failed';
  readonly elapsedMs: number;
}

/** Looks until the gate passes, fails, or the deadline passes (then it fails with the last reasons). */
export async function runHealthGate(db: Db, options: GateOptions): Promise<GateResult> {
  const started = Date.now();
  const interval = options.intervalMs ?? 2_000;
  let lastProgress = started;
  for (;;) {
    const readiness = await Promise.all(options.targets.map((target) => readinessOf(target)));
    const reconciliation = await reconciliationSince(db, options.since).catch(
      (error: unknown): ReconciliationSeen => ({
        state: 'incomplete',
        at: new Date().toISOString(),
        error: `Postgres: ${(error as Error).message}`,
      }),
    );
    const verdict = gateVerdict({
      services: Object.fromEntries(options.targets.map((target, index) => [target.name, readiness[index]!])),
      reconciliation,
    });
    const elapsedMs = Date.now() - started;
    if (verdict.outcome !== 'waiting') return { ...verdict, outcome: verdict.outcome, elapsedMs };
    if (elapsedMs + interval > options.timeoutMs)
      return { outcome: 'failed', reasons: verdict.reasons, elapsedMs };
    if (Date.now() - lastProgress >= 10_000) {
      options.progress?.(verdict, elapsedMs);
      lastProgress = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
