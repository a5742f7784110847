/**
 * Operator actions shared by the CLI (`npm run status -- halt …`) and dashboard-api. Halt and resume take effect at once in KV `trading` (they must work even
 * when execution is down) and are audited in `audit_log` and on `sys.audit`; reconcile asks execution,
 * which audits it when it runs.
 */
import type { Bus } from '@ibstack/bus';
import {
  type AuditEntry,
  deterministicId,
  nowIso,
  randomId,
  type TradingState,
  type TradingStateName,
  topics,
} from '@ibstack/contracts';
import { type Database, insertAuditEntries, type Kysely } from '@ibstack/db';

import { DurableTradingState } from './trading-state';

export interface StateChange {
  value: TradingState;
  /** Where the audit entry could not be written (empty when it reached both places). */
  auditProblems: string[];
}

/**
 * Sets the trading state in KV `trading` and in Postgres at once, then audits it. A halt that reached
 * either place is in force (readers take the stricter copy), so it works while Postgres is down; a
 * resume or reduce is in force only once both have it. Where the state or the audit could not be written
 * is reported to the operator, not swallowed; reaching neither place throws.
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
  const auditProblems = (await new DurableTradingState(deps).write(value)).map((problem) =>
    state === 'HALTED'
      ? `trading state not written to ${problem} (the halt is in force from the other copy)`
      : `trading state not written to ${problem}: not in force until it is (retry)`,
  );
  const entry: AuditEntry = {
    v: 1,
    auditId: deterministicId(via === 'ibstack cli' ? 'cli' : via, state, value.at, by),
    actor: by,
    action: state === 'HALTED' ? 'halt' : state === 'RUNNING' ? 'resume' : 'reduce',
    detail: { reason, via },
    at: value.at,
  };
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

/**
 * Asks execution to cancel every working order of ours at the broker (after a halt: a halt alone lets
 * resting orders go on filling); execution audits what it cancelled. Returns the command id.
 */
export async function requestWorkingOrderCancel(bus: Bus, by: string, reason: string): Promise<string> {
  const commandId = randomId();
  await bus.publish(topics.control, {
    v: 1,
    command: 'cancel_working_orders',
    commandId,
    by,
    reason,
    at: nowIso(),
  });
  return commandId;
}

/** Asks execution to reconcile now; it audits the run itself. Returns the command id. */
export async function requestReconciliation(bus: Bus, by: string): Promise<string> {
  const commandId = randomId();
  await bus.publish(topics.control, { v: 1, command: 'reconcile', commandId, by, at: nowIso() });
  return commandId;
}
export * from './status';
export * from './trading-state';
