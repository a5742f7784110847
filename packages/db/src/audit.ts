import type { Kysely } from 'kysely';

import type { Database } from './schema';

/** What `audit_log` stores of an audit entry (the `AuditEntry` message of packages/contracts). */
export interface AuditRecord {
  auditId: string;
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

/**
 * The insert of audit entries, once each by audit id (a replayed command is audited once). Returned
 * unexecuted, so a caller can run it alone or inside its own transaction.
 */
export function insertAuditEntries(db: Kysely<Database>, entries: readonly AuditRecord[]) {
  return db
    .insertInto('audit_log')
    .values(
      entries.map((entry) => ({
        audit_id: entry.auditId,
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        detail: JSON.stringify(entry.detail),
      })),
    )
    .onConflict((conflict) => conflict.column('audit_id').doNothing());
}
