/**
 * Operator actions shared by the CLI (`npm run status -- halt …`) and dashboard-api. Halt and resume take effect at once in KV `trading` (they must work even
 * when execution is down) and are audited in `audit_log` and on `sys.audit`; reconcile asks execution,
 * which audits it when it runs.
 */
import type { Bus } from '@ibstack/bus';
import {
  type AuditEntry,
  deterministicId,
  KV_KEYS,
  nowIso,
  randomId,
  TradingState,
  type TradingStateName,
  topics,
} from '@ibstack/contracts';
import { type Database, insertAuditEntries, type Kysely } from '@ibstack/db';

export interface StateChange {
  value: TradingState;
  /** Where the audit entry could not be written (empty when it reached both places). */
  auditProblems: string[];
}

/**
 * Sets the trading state, then audits it. The state is written first and alone decides: a halt must
 * take effect even when Postgres is down. The audit goes to `sys.audit` and `audit_log`; a place it
 * could not reach is reported to the operator, not swallowed.
 */
export async function setTradingState(
  deps: { bus: Bus; db: Kysely<Database> | null },
  state: TradingStateName,
  reason: string,
  by: string,
  /** The channel the operator used, kept in the audit entry. @default 'ibstack cli' */
  via = 'ibstack cli',
): Promise<StateChange> {
  const value: TradingState = { v: 1, state, reason, by, at: nowIso() };
  const kv = await deps.bus.kv('trading', TradingState, { history: 10 });
  await kv.put(KV_KEYS.tradingState, value);
  const entry: AuditEntry = {
    v: 1,
    auditId: deterministicId(via === 'ibstack cli' ? 'cli' : via, state, value.at, by),
    actor: by,
    action: state === 'HALTED' ? 'halt' : state === 'RUNNING' ? 'resume' : 'reduce',
    detail: { reason, via },
    at: value.at,
  };
  const auditProblems: string[] = [];
  await deps.bus
    .publish(topics.audit, entry)
    .catch((error: unknown) => auditProblems.push(`sys.audit: ${(error as Error).message}`));
  if (!deps.db) auditProblems.push('audit_log: Postgres is not reachable');
  else
    await insertAuditEntries(deps.db, [entry])
      .execute()
      .catch((error: unknown) => auditProblems.push(`audit_log: ${(error as Error).message}`));
  return { value, auditProblems };
}

/** Asks execution to reconcile now; it audits the run itself. Returns the command id. */
export async function requestReconciliation(bus: Bus, by: string): Promise<string> {
  const commandId = randomId();
  await bus.publish(topics.control, { v: 1, command: 'reconcile', commandId, by, at: nowIso() });
  return commandId;
}
export * from './status';
