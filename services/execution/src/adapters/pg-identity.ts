import { type Database, type Kysely, sql } from '@ibstack/db';

import type { DatabaseState } from '../domain/lease-guard';

/**
 * This database's role and identity, for the lease guard: in recovery or fenced read-only, its
 * cluster's system identifier, the timeline its WAL is written on (the first 8 hex digits of the
 * current WAL file's name: right from the promotion on, unlike the control file's checkpoint copy) and
 * its fence epoch. Every function used is executable by any role.
 */
export async function readDatabaseState(db: Kysely<Database>): Promise<DatabaseState> {
  const { rows } = await sql<{
    in_recovery: boolean;
    read_only: string;
    system_id: string;
    timeline: number | null;
    fence_epoch: string | null;
  }>`
    select pg_is_in_recovery() as in_recovery,
           current_setting('default_transaction_read_only') as read_only,
           (select system_identifier::text from pg_control_system()) as system_id,
           case when pg_is_in_recovery() then null
                else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline,
           (select epoch::text from leader_fence where name = 'execution') as fence_epoch`.execute(db);
  const row = rows[0]!;
  return {
    inRecovery: row.in_recovery,
    readOnly: row.read_only === 'on',
    systemId: row.system_id,
    timeline: row.timeline === null ? null : Number(row.timeline),
    fenceEpoch: Number(row.fence_epoch ?? 0),
  };
}
