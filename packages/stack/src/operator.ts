/**
 * Operator actions of the CLI. Halt and resume take effect at once in KV `trading` (they must work even
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

export async function setTradingState(
  deps: { bus: Bus; db: Kysely<Database> },
  state: TradingStateName,
  reason: string,
  by: string,
): Promise<TradingState> {
  const value: TradingState = { v: 1, state, reason, by, at: nowIso() };
  const kv = await deps.bus.kv('trading', TradingState, { history: 10 });
  await kv.put(KV_KEYS.tradingState, value);
  const entry: AuditEntry = {
    v: 1,
    auditId: deterministicId('cli', state, value.at, by),
    actor: by,
    action: state === 'HALTED' ? 'halt' : state === 'RUNNING' ? 'resume' : 'reduce',
    detail: { reason, via: 'ibstack cli' },
    at: value.at,
  };
  await insertAuditEntries(deps.db, [entry]).execute();
  await deps.bus.publish(topics.audit, entry);
  return value;
}

export async function requestReconciliation(bus: Bus, by: string): Promise<void> {
  await bus.publish(topics.control, { v: 1, command: 'reconcile', commandId: randomId(), by, at: nowIso() });
}
