/**
 * Whether this instance may take the execution lease on its database (pure; the table is in
 * test/domain/lease-guard.test.ts). The lease is a quorum write in NATS and says nothing about which
 * Postgres its holder writes to; on a failover pair (infra/failover) a former primary cut off while its
 * replica was promoted comes back with a database that still takes writes but missed everything the
 * promoted one recorded. Such a host must never hold the lease again until it is rewound.
 *
 * The facts: the lease mark (KV `lease-mark`, no TTL: the last epoch granted and the database it was
 * granted on) and this database's cluster (system identifier), timeline and fence epoch. Every
 * promotion starts a timeline above its parent's, so:
 *   - another cluster than the mark's: refused (not a copy of the database that traded last);
 *   - a lower timeline than the mark's: refused (replaced by a promoted replica: the diverged side);
 *   - the same timeline: the database granted last, or one restored into the same cluster from a
 *     backup (`make restore`: its fence is older than the mark, and the epoch taken is above the mark's
 *     all the same; reconciliation with the broker runs before it trades). Two replicas of one primary
 *     promoted apart would also tie here; with two trading hosts there is one replica, and the agent
 *     never rewinds the side on the later timeline, so that does not arise;
 *   - a later timeline: a replica promoted after the mark (the takeover itself);
 *   - a replica (in recovery): may win the key, so that the failover agent promotes it (a promotion
 *     starts a new, later timeline from what it replayed), and is checked again once it takes writes.
 * The epoch taken is always above the mark's.
 */
import type { LeaseMark, PostgresIdentity } from '@ibstack/contracts';

export interface DatabaseState {
  inRecovery: boolean;
  /** default_transaction_read_only on a server not in recovery (the failover agent's fence). */
  readOnly: boolean;
  systemId: string;
  /** The timeline WAL is written on; null in recovery. */
  timeline: number | null;
  /** The epoch in this database's `leader_fence`; 0 when none was ever taken (for the logs). */
  fenceEpoch: number;
}

export type LeaseGuardDecision =
  | { kind: 'eligible'; identity: PostgresIdentity; minEpoch: number }
  /** Not writable yet: may win the key and wait for the promotion (or the fence to be lifted). */
  | { kind: 'wait_writable' }
  | { kind: 'refused'; reason: string };

export function leaseGuard(database: DatabaseState, mark: LeaseMark | null): LeaseGuardDecision {
  if (mark && database.systemId !== mark.postgres.systemId)
    return {
      kind: 'refused',
      reason: `this database (system ${database.systemId}) is not of the cluster the lease was last granted on (${mark.postgres.systemId}, by ${mark.holder} at epoch ${mark.epoch})`,
    };
  if (database.inRecovery || database.readOnly || database.timeline === null) {
    // A fenced former primary stays on its timeline: refused now rather than after the fence is lifted.
    if (mark && database.timeline !== null && database.timeline < mark.postgres.timeline)
      return { kind: 'refused', reason: replaced(database.timeline, mark) };
    return { kind: 'wait_writable' };
  }
  const identity = { systemId: database.systemId, timeline: database.timeline };
  if (!mark) return { kind: 'eligible', identity, minEpoch: 1 };
  if (database.timeline < mark.postgres.timeline)
    return { kind: 'refused', reason: replaced(database.timeline, mark) };
  return { kind: 'eligible', identity, minEpoch: mark.epoch + 1 };
}

function replaced(timeline: number, mark: LeaseMark): string {
  return `this database is on timeline ${timeline}, but the lease was last granted to ${mark.holder} at epoch ${mark.epoch} on timeline ${mark.postgres.timeline}: it was replaced by a promoted replica (rewind it into a replica: infra/failover/RUNBOOK.md)`;
}
