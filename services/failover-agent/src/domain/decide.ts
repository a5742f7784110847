/**
 * What the failover agent does next, from what it sees: the execution lease (NATS KV, a quorum write)
 * and its own Postgres. Pure, so every case is a table row in the tests.
 *
 * Invariants: this host's Postgres is promoted only while this host's execution holds the lease; a host
 * whose execution does not hold the lease never keeps a writable Postgres once another host holds it
 * (fenced read-only at once, then rewound into a replica); nothing is done without a lease to go by.
 *
 * Only the side that lost is ever rewound. The lease names the holder's database (cluster and
 * timeline, see execution's lease guard, which never grants the lease on a replaced database); this
 * host's Postgres is rewound only when it is of the same cluster and on an earlier timeline than the
 * holder's — the former primary whose replica was promoted. A host whose database is on the holder's
 * timeline or a later one is never rewound (nor fenced when later: that would be the holder on a
 * replaced database, which the guard rules out; the agent says so and leaves both as they are).
 */
import type { PostgresIdentity } from '@ibstack/contracts';

export interface LeaseView {
  holder: string;
  epoch: number;
  /** The holder's database, set with the epoch (absent at epoch 0). */
  postgres?: PostgresIdentity;
}

export interface PostgresView {
  /** Null: the server did not answer (stopped, restarting). */
  inRecovery: boolean | null;
  /** default_transaction_read_only: the fence on a former primary. */
  readOnly: boolean;
  /** The cluster's system identifier; null when the server did not answer. */
  systemId: string | null;
  /** The timeline WAL is written on; null in recovery or when the server did not answer. */
  timeline: number | null;
}

export interface Observation {
  host: string;
  lease: LeaseView | null;
  postgres: PostgresView;
  /** This agent promoted its Postgres and has not yet run the takeover command since. */
  takeoverPending: boolean;
  /** A rejoin command is configured: the agent controls the server and may rewind it. */
  canRejoin: boolean;
  /** A takeover command (bring the gateway up) is configured. */
  hasTakeoverCommand: boolean;
}

export type Action =
  | { kind: 'none'; demotionPending: boolean }
  | { kind: 'promote'; epoch: number }
  | { kind: 'unfence'; epoch: number }
  | { kind: 'takeover'; epoch: number }
  | { kind: 'fence'; epoch: number; holder: string }
  | { kind: 'rejoin'; epoch: number; holder: string }
  /** The lease and this database disagree in a way the guard should make impossible: hands off. */
  | { kind: 'conflict'; epoch: number; holder: string; reason: string };

const NONE: Action = { kind: 'none', demotionPending: false };
const PENDING: Action = { kind: 'none', demotionPending: true };

export function decide(observation: Observation): Action {
  const { lease, postgres, host } = observation;
  if (!lease || postgres.inRecovery === null) return NONE;
  const held = lease.postgres;
  if (lease.holder === host) {
    if (postgres.inRecovery) return { kind: 'promote', epoch: lease.epoch };
    if (postgres.readOnly) {
      const behind = held && !isSameOrLater(postgres, held);
      if (behind)
        return {
          kind: 'conflict',
          epoch: lease.epoch,
          holder: lease.holder,
          reason: `this host holds the lease for timeline ${held.timeline}, but its database is on ${postgres.timeline}: left fenced`,
        };
      return { kind: 'unfence', epoch: lease.epoch };
    }
    // The gateway is brought up only after a promotion by this agent: a primary that has held the lease
    // all along has its gateway up already.
    if (observation.hasTakeoverCommand && observation.takeoverPending)
      return { kind: 'takeover', epoch: lease.epoch };
    return NONE;
  }
  if (postgres.inRecovery) return NONE;
  const fence: Action = { kind: 'fence', epoch: lease.epoch, holder: lease.holder };
  // Epoch 0: the holder won the key but has not taken the fence, so its Postgres may still be a replica
  // (of this very server, even): rewinding from it now could leave two replicas streaming from each
  // other. Without the holder's database named, nothing tells which side lost: fenced, never rewound.
  if (!held) return postgres.readOnly ? PENDING : fence;
  if (postgres.systemId !== held.systemId)
    return {
      kind: 'conflict',
      epoch: lease.epoch,
      holder: lease.holder,
      reason: `the holder's database is of another cluster (${held.systemId}, this one ${postgres.systemId}): not rewound`,
    };
  if (postgres.timeline === null) return NONE;
  if (postgres.timeline > held.timeline)
    return {
      kind: 'conflict',
      epoch: lease.epoch,
      holder: lease.holder,
      reason: `this database is on a later timeline (${postgres.timeline}) than the holder’s (${held.timeline}): never rewound`,
    };
  if (!postgres.readOnly) return fence;
  // The same timeline: not a replaced primary (pg_rewind would find nothing to undo); the operator looks.
  if (postgres.timeline === held.timeline) return PENDING;
  if (observation.canRejoin) return { kind: 'rejoin', epoch: lease.epoch, holder: lease.holder };
  return PENDING;
}

function isSameOrLater(postgres: PostgresView, held: PostgresIdentity): boolean {
  return (
    postgres.systemId === held.systemId && postgres.timeline !== null && postgres.timeline >= held.timeline
  );
}
