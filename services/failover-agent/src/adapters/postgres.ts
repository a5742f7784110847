import { createPool } from '@ibstack/db';

import type { PostgresView } from '../domain/decide';

const UNKNOWN: PostgresView = { inRecovery: null, readOnly: false, systemId: null, timeline: null };

export interface ReplicationView {
  /** A replica streams from this server (primary), or this server streams from its primary (replica). */
  streaming: boolean;
  /** Seconds the replica's replay is behind: on a replica since the last replayed commit while WAL is
   * outstanding, on a primary the largest replay_lag of its replicas. Null when unknown. */
  lagSeconds: number | null;
}

/**
 * This host's Postgres, over one small pool: its role, the read-only fence, promotion, replication.
 * The agent's role needs pg_promote and ALTER SYSTEM (a superuser, or grants to both).
 */
export class LocalPostgres {
  private readonly pool: ReturnType<typeof createPool>;

  constructor(url: string, onError: (error: Error) => void) {
    this.pool = createPool(url, { maxConnections: 2, applicationName: 'failover-agent', onError });
  }

  /** Its role, fence, cluster and timeline (as execution's lease guard reads them, adapters/pg-identity). */
  async view(): Promise<PostgresView> {
    try {
      const { rows } = await this.pool.query<{
        in_recovery: boolean;
        read_only: string;
        system_id: string;
        timeline: number | null;
      }>(
        `select pg_is_in_recovery() as in_recovery,
                current_setting('default_transaction_read_only') as read_only,
                (select system_identifier::text from pg_control_system()) as system_id,
                case when pg_is_in_recovery() then null
                     else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end as timeline`,
      );
      const row = rows[0]!;
      return {
        inRecovery: row.in_recovery,
        readOnly: row.read_only === 'on',
        systemId: row.system_id,
        timeline: row.timeline === null ? null : Number(row.timeline),
      };
    } catch {
      return UNKNOWN;
    }
  }

  /** Ends recovery and waits (up to 60 s) until the server takes writes. */
  async promote(): Promise<void> {
    const { rows } = await this.pool.query<{ promoted: boolean }>('select pg_promote(true, 60) as promoted');
    if (!rows[0]?.promoted) throw new Error('pg_promote did not finish within 60 s');
    // The control file shows the new timeline only after a checkpoint: without one, a former primary's
    // pg_rewind against this server can find "the same timeline", rewind nothing, and never stream.
    await this.pool.query('checkpoint').catch(() => undefined);
  }

  /**
   * The fence: every new transaction read-only (ALTER SYSTEM survives a restart). Open transactions
   * finish; execution on this host holds no lease, so it writes no orders anyway — this stops the rest.
   */
  async setReadOnly(readOnly: boolean): Promise<void> {
    await this.pool.query(
      readOnly
        ? 'alter system set default_transaction_read_only = on'
        : 'alter system reset default_transaction_read_only',
    );
    await this.pool.query('select pg_reload_conf()');
    // Sessions already open keep their old default: end them, so every session sees the fence.
    if (readOnly)
      await this.pool.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where backend_type = 'client backend' and pid <> pg_backend_pid()
           and application_name <> 'failover-agent'`,
      );
  }

  async replication(inRecovery: boolean): Promise<ReplicationView> {
    if (inRecovery) {
      const { rows } = await this.pool.query<{ streaming: boolean; lag: number | null }>(
        `select exists (select 1 from pg_stat_wal_receiver where status = 'streaming') as streaming,
                case when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
                     else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 end as lag`,
      );
      return { streaming: rows[0]!.streaming, lagSeconds: rows[0]!.lag };
    }
    const { rows } = await this.pool.query<{ streaming: boolean; lag: number | null }>(
      `select count(*) filter (where state = 'streaming') > 0 as streaming,
              max(extract(epoch from coalesce(replay_lag, interval '0')))::float8 as lag
       from pg_stat_replication`,
    );
    return { streaming: rows[0]!.streaming, lagSeconds: rows[0]!.lag };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
