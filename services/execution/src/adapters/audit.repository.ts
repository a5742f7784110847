/** `audit_log`: execution's audited actions (halts, duplicates, operator commands). */
import { type AuditEntry } from '@ibstack/contracts';
import { type Database, insertAuditEntries, type Kysely } from '@ibstack/db';

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async record(entry: AuditEntry): Promise<void> {
    await insertAuditEntries(this.db, [entry]).execute();
  }
}
