/** `leader_fence`: the fencing epoch every order insert checks (see lease.ts). */
import { type Database, type Kysely, sql } from '@ibstack/db';

export const FENCE_NAME = 'execution';

export class FenceRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Takes the fence with an epoch of our own: one more than any epoch before, so a later holder's is
   * always larger, whatever happened to the KV bucket (a lost or recreated `leases` bucket restarts its
   * revisions, which made the lease impossible to take when the fence compared against them), and at
   * least `atLeast` (one more than the last epoch granted on any database: the lease mark).
   */
  async take(holder: string, atLeast = 1): Promise<number> {
    const result = await sql<{ epoch: number }>`
      insert into leader_fence (name, epoch, holder) values (${FENCE_NAME}, ${atLeast}, ${holder})
      on conflict (name) do update set epoch = greatest(leader_fence.epoch + 1, ${atLeast}), holder = excluded.holder, updated_at = now()
      returning epoch`.execute(this.db);
    return Number(result.rows[0]!.epoch);
  }

  /** Whether `epoch` still holds the fence (false once a later holder took it). */
  async holds(epoch: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('leader_fence')
      .select('epoch')
      .where('name', '=', FENCE_NAME)
      .executeTakeFirst();
    return row !== undefined && Number(row.epoch) === epoch;
  }
}
