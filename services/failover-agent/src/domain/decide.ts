/**
 * What the failover agent does next, from what it sees: the execution lease (NATS KV, a quorum write)
 * and its own Postgres. Pure, so every case is a table row in the tests.
 *
 * Invariants: this host's Postgres is promoted only while this host's execution holds the lease; a host
 * whose execution does not hold the lease never keeps a writable Postgres once another host holds it
 * (fenced read-only at once, then rewound into a replica); nothing is done without a lease to go by.
 */
export interface LeaseView {
  holder: string;
  epoch: number;
}

export interface PostgresView {
  /** Null: the server did not answer (stopped, restarting). */
  inRecovery: boolean | null;
  /** default_transaction_read_only: the fence on a former primary. */
  readOnly: boolean;
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
  | { kind: 'rejoin'; epoch: number; holder: string };

export function decide(observation: Observation): Action {
  const { lease, postgres, host } = observation;
  if (!lease || postgres.inRecovery === null) return { kind: 'none', demotionPending: false };
  if (lease.holder === host) {
    if (postgres.inRecovery) return { kind: 'promote', epoch: lease.epoch };
    if (postgres.readOnly) return { kind: 'unfence', epoch: lease.epoch };
    // The gateway is brought up only after a promotion by this agent: a primary that has held the lease
    // all along has its gateway up already.
    if (observation.hasTakeoverCommand && observation.takeoverPending)
      return { kind: 'takeover', epoch: lease.epoch };
    return { kind: 'none', demotionPending: false };
  }
  if (postgres.inRecovery) return { kind: 'none', demotionPending: false };
  if (!postgres.readOnly) return { kind: 'fence', epoch: lease.epoch, holder: lease.holder };
  // Epoch 0: the holder won the key but has not taken the fence, so its Postgres may still be a replica
  // (of this very server, even): rewinding from it now could leave two replicas streaming from each other.
  if (lease.epoch === 0) return { kind: 'none', demotionPending: true };
  if (observation.canRejoin) return { kind: 'rejoin', epoch: lease.epoch, holder: lease.holder };
  return { kind: 'none', demotionPending: true };
}
