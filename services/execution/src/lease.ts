/**
 * The execution lease (KV `leases`, key `execution`): only its holder connects to the gateway and places
 * orders. Winning the key's create takes the fence in Postgres (`leader_fence`) with an epoch of our own,
 * one more than any before; every order insert checks it, so a former holder that comes back cannot write
 * an order, and a lost or recreated bucket (whose revisions start again at 1) cannot lock everyone out.
 * A holder that finds a later epoch in the fence at a renewal gives the lease up.
 *
 * On a failover standby (infra/failover) the local Postgres is a read-only replica until the failover
 * agent promotes it, which it does on seeing this host win the lease: the fence claim waits for that,
 * bounded by a renew interval, and hands the lease back if the database stays read-only (the lease gate).
 *
 * The bucket's TTL expires a holder that stops renewing (NATS 2.9 has no per-key TTL). A holder also
 * stops itself when it has not renewed successfully for `ttl - margin` by its own monotonic clock, so it
 * gives up before a standby can take over, whatever the wall clocks say.
 *
 * Across hosts each with its own Postgres (infra/failover), the lease also says which database its holder
 * trades on, and the lease mark (KV `lease-mark`, no TTL) keeps the last grant after the lease itself
 * has aged out: an instance takes the lease only on a database that is the one granted last or a
 * promoted copy of it (domain/lease-guard.ts), and with an epoch above the mark's. A former primary
 * whose replica was promoted while it was cut off never takes the lease again on its diverged database.
 *
 * A restarted instance does not wait out the TTL of the lease its previous life held: when the key names
 * this instance's own identity and this process holds the identity lock (`InstanceLock`, which no other
 * live process can hold at the same time), the holder is provably gone, and the key is taken over at once.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

import type { SingleKeyKv } from '@ibstack/bus';
import { KV_KEYS, type Lease, type LeaseMark, nowIso, type PostgresIdentity } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { ExecutionStore } from './adapters/pg-store';
import { type DatabaseState, leaseGuard, type LeaseGuardDecision } from './domain/lease-guard';

/** What the lease is taken against: the last grant (KV `lease-mark`) and this instance's database. */
export interface LeaseGuardDeps {
  marks: Pick<SingleKeyKv<LeaseMark>, 'get' | 'create' | 'update'>;
  database: () => Promise<DatabaseState>;
}

export interface LeaseOptions {
  holder: string;
  ttlMs: number;
  /** @default the smaller of 1 s and ttlMs / 3 */
  renewIntervalMs?: number;
  /**
   * How often a standby looks whether the lease is free (one read while it is held). @default the
   * smaller of 250 ms and ttlMs / 4: the key is taken within a quarter of a second of its expiry.
   */
  pollIntervalMs?: number;
  /** Safety margin before the TTL at which a holder that could not renew gives up. @default ttlMs / 4 */
  marginMs?: number;
  /**
   * Resolves true while this process alone carries `holder` (see InstanceLock): then a key naming
   * `holder` was left by a previous life of this instance and is taken over without waiting for the TTL.
   * Absent: always wait for the TTL.
   */
  ownsIdentity?: () => Promise<boolean>;
  /** Epoch ms, for the times written into the lease. @default Date.now */
  clock?: () => number;
  /** The lease mark and this database's identity (see domain/lease-guard.ts). Absent: no such check. */
  guard?: LeaseGuardDeps;
}

export interface LeaseEvents {
  /** `tookOver` is true when another holder had the lease when this instance started waiting for it. */
  acquired: [epoch: number, tookOver: boolean];
  lost: [reason: string];
  /** This database may not take the lease (see domain/lease-guard.ts); once per new reason. */
  refused: [reason: string];
}

const RENEW_RETRY_MS = 250;
const POLL_INTERVAL_MAX_MS = 250;
const RENEW_INTERVAL_MAX_MS = 1_000;

export class ExecutionLease extends EventEmitter<LeaseEvents> {
  private revision: number | null = null;
  private epochValue: number | null = null;
  private lastRenewed = 0;
  private acquiredAt = '';
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy = false;
  private waited = false;
  private identity: PostgresIdentity | undefined;
  private refusedFor = '';

  constructor(
    private readonly kv: Pick<SingleKeyKv<Lease>, 'get' | 'create' | 'update' | 'delete'>,
    private readonly store: ExecutionStore,
    private readonly options: LeaseOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  get epoch(): number | null {
    return this.epochValue;
  }

  /** True only while held and renewed recently enough by the local monotonic clock. */
  isHeld(): boolean {
    if (this.epochValue === null) return false;
    return performance.now() - this.lastRenewed < this.options.ttlMs - this.margin();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.revision !== null) {
      // Release at once so a standby need not wait for the TTL.
      await this.kv.delete(KV_KEYS.executionLease, this.revision).catch(() => false);
      this.drop('released on shutdown');
    }
  }

  private margin(): number {
    return this.options.marginMs ?? Math.floor(this.options.ttlMs / 4);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private drop(reason: string): void {
    const held = this.epochValue !== null;
    this.revision = null;
    this.epochValue = null;
    if (held) {
      this.log.warn({ reason }, 'execution lease lost');
      this.emit('lost', reason);
    }
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    this.busy = true;
    let failed = false;
    try {
      if (this.epochValue === null) await this.tryAcquire();
      else await this.renew();
    } catch (error) {
      failed = true;
      this.log.warn({ err: error }, 'lease operation failed');
      if (this.epochValue !== null && !this.isHeld())
        this.drop(`could not renew: ${(error as Error).message}`);
    } finally {
      this.busy = false;
    }
    const renewInterval = this.renewInterval();
    this.schedule(
      this.epochValue === null
        ? (this.options.pollIntervalMs ?? Math.min(POLL_INTERVAL_MAX_MS, Math.floor(this.options.ttlMs / 4)))
        : // A failed renewal (a timeout while the cluster elects a new leader for the bucket) is retried
          // soon, not a whole interval later, so a holder rides out an election within its margin.
          failed
          ? Math.min(renewInterval, RENEW_RETRY_MS)
          : renewInterval,
    );
  }

  /**
   * At any moment a holder has at least `ttl - margin - renewInterval` left before it must stop; renewing
   * every second (or every TTL/3 when that is shorter) keeps that above a NATS Raft election after the
   * bucket's leader node is lost (4–9 s), so losing the witness or the standby does not move the lease.
   */
  private renewInterval(): number {
    return (
      this.options.renewIntervalMs ?? Math.min(RENEW_INTERVAL_MAX_MS, Math.floor(this.options.ttlMs / 3))
    );
  }

  private value(epoch: number, acquiredAt: string): Lease {
    return {
      v: 1,
      holder: this.options.holder,
      epoch,
      acquiredAt,
      renewedAt: nowIso(this.options.clock),
      ...(epoch > 0 && this.identity ? { postgres: this.identity } : {}),
    };
  }

  /** The guard's verdict now, from a fresh read of the mark and of this database. */
  private async guardDecision(): Promise<{
    decision: LeaseGuardDecision;
    mark: { value: LeaseMark; revision: number } | null;
  }> {
    const guard = this.options.guard!;
    const [mark, database] = await Promise.all([guard.marks.get(KV_KEYS.executionLease), guard.database()]);
    const decision = leaseGuard(database, mark?.value ?? null);
    if (decision.kind === 'refused') {
      if (decision.reason !== this.refusedFor) {
        this.refusedFor = decision.reason;
        this.log.error({ reason: decision.reason }, 'this instance may not take the execution lease');
        this.emit('refused', decision.reason);
      }
    } else this.refusedFor = '';
    return { decision, mark };
  }

  private async tryAcquire(): Promise<void> {
    if (this.options.guard) {
      // While another holder has the key, one read is all a poll costs.
      const current = await this.kv.get(KV_KEYS.executionLease);
      if (current && current.value.holder !== this.options.holder) {
        this.waited = true;
        return;
      }
      // A database that may not take the lease does not even contend for the key: winning it would only
      // delay the instance that may.
      if ((await this.guardDecision()).decision.kind === 'refused') return;
    }
    const acquiredAt = nowIso(this.options.clock);
    const started = performance.now();
    let revision = await this.kv.create(KV_KEYS.executionLease, this.value(0, acquiredAt));
    if (revision === null && (await this.takeOverOwnLease())) {
      revision = await this.kv.create(KV_KEYS.executionLease, this.value(0, acquiredAt));
    }
    if (revision === null) {
      this.waited = true;
      return;
    }
    // Our own epoch, taken only after the key is ours: a later holder's is always larger.
    const claimed = await this.takeFenceWhenWritable(acquiredAt, revision, started);
    if (claimed === null) return;
    const renewedAt = performance.now();
    const renewed = await this.kv.update(
      KV_KEYS.executionLease,
      this.value(claimed.epoch, acquiredAt),
      claimed.revision,
    );
    // Lost the key between the create and now (it aged out while the fence was taken): the holder that
    // has it now finds our later epoch in the fence at its next renewal and gives the lease up.
    if (renewed === null) return;
    this.revision = renewed;
    this.identity = claimed.identity;
    this.epochValue = claimed.epoch;
    this.acquiredAt = acquiredAt;
    // The TTL runs from the send of the last write that landed.
    this.lastRenewed = renewedAt;
    this.log.info({ epoch: claimed.epoch }, 'execution lease acquired');
    this.emit('acquired', claimed.epoch, this.waited);
    this.waited = false;
  }

  /**
   * Deletes a key that names this instance when this process provably is the only one carrying the name:
   * the holder was a previous life of this instance (killed, crashed) and is gone. True when deleted.
   */
  private async takeOverOwnLease(): Promise<boolean> {
    if (!this.options.ownsIdentity) return false;
    const current = await this.kv.get(KV_KEYS.executionLease);
    if (!current || current.value.holder !== this.options.holder) return false;
    if (!(await this.options.ownsIdentity())) return false;
    if (!(await this.kv.delete(KV_KEYS.executionLease, current.revision))) return false;
    this.log.warn(
      { epoch: current.value.epoch, acquiredAt: current.value.acquiredAt },
      'the lease was held by a previous life of this instance, which is gone: taking it over now',
    );
    this.waited = true;
    return true;
  }

  /**
   * Takes the fence once the database takes writes (on a failover standby, once the agent promoted the
   * replica), renewing the key meanwhile so that a slow promotion does not let it age out. Null when
   * another instance took the key, the guard refused this database, or it stayed read-only for three
   * TTLs: then the key is handed back.
   */
  private async takeFenceWhenWritable(
    acquiredAt: string,
    revision: number,
    renewedAt: number,
  ): Promise<{
    epoch: number;
    revision: number;
    renewedAt: number;
    identity: PostgresIdentity | undefined;
  } | null> {
    const giveUpAt = performance.now() + this.options.ttlMs * 3;
    let current = { revision, renewedAt };
    for (;;) {
      try {
        const claimed = await this.claimFence();
        if (claimed === null) {
          await this.kv.delete(KV_KEYS.executionLease, current.revision).catch(() => false);
          return null;
        }
        if (claimed !== 'read_only') {
          this.identity = claimed.identity;
          return { ...claimed, ...current };
        }
      } catch (error) {
        if (!isReadOnlyDatabase(error)) {
          await this.kv.delete(KV_KEYS.executionLease, current.revision).catch(() => false);
          throw error;
        }
      }
      if (!this.running || performance.now() >= giveUpAt) {
        this.log.warn('won the lease but the database stays read-only; handing the lease back');
        await this.kv.delete(KV_KEYS.executionLease, current.revision).catch(() => false);
        return null;
      }
      if (performance.now() - current.renewedAt >= this.renewInterval()) {
        const sentAt = performance.now();
        const next = await this.kv
          .update(KV_KEYS.executionLease, this.value(0, acquiredAt), current.revision)
          .catch(() => undefined);
        if (next === null) return null; // another instance has the key now
        if (next !== undefined) current = { revision: next, renewedAt: sentAt };
        else if (performance.now() - current.renewedAt >= this.options.ttlMs - this.margin()) return null;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Takes the fence if the guard allows it, then records the grant in the lease mark (a compare-and-set:
   * the mark only moves forward). 'read_only': not writable yet. Null: refused, or the mark moved under
   * us (another instance's grant), so the key is to be handed back.
   */
  private async claimFence(): Promise<
    { epoch: number; identity: PostgresIdentity | undefined } | 'read_only' | null
  > {
    if (!this.options.guard) {
      return { epoch: await this.store.fence.take(this.options.holder), identity: undefined };
    }
    const { decision, mark } = await this.guardDecision();
    if (decision.kind === 'refused') return null;
    if (decision.kind === 'wait_writable') return 'read_only';
    const epoch = await this.store.fence.take(this.options.holder, decision.minEpoch);
    const next: LeaseMark = {
      v: 1,
      holder: this.options.holder,
      epoch,
      postgres: decision.identity,
      at: nowIso(this.options.clock),
    };
    const written = mark
      ? await this.options.guard.marks.update(KV_KEYS.executionLease, next, mark.revision)
      : await this.options.guard.marks.create(KV_KEYS.executionLease, next);
    if (written === null) {
      this.log.warn({ epoch }, 'the lease mark moved while the fence was taken: another grant; handing back');
      return null;
    }
    return { epoch, identity: decision.identity };
  }

  private async renew(): Promise<void> {
    if (!this.isHeld()) {
      this.drop('not renewed within the TTL');
      return;
    }
    const started = performance.now();
    const revision = await this.kv.update(
      KV_KEYS.executionLease,
      this.value(this.epochValue!, this.acquiredAt),
      this.revision!,
    );
    if (revision === null) {
      // A renewal that timed out may still have been written: then the key holds our own epoch at a
      // later revision, which is ours to renew from (the clock is not advanced: when it landed is unknown).
      const current = await this.kv.get(KV_KEYS.executionLease);
      if (current?.value.holder === this.options.holder && current.value.epoch === this.epochValue) {
        this.revision = current.revision;
        throw new Error('a renewal that timed out had landed: renewing again from its revision');
      }
      this.drop('another instance holds the lease');
      return;
    }
    this.revision = revision;
    this.lastRenewed = started;
    // A later epoch in the fence means another instance won the key while ours was briefly gone: our
    // order writes are refused already, so stop and let the key go. A fence that cannot be read (a
    // Postgres blip) is no reason to give up a lease that NATS still grants.
    const fenced = await this.store.fence.holds(this.epochValue!).then(
      (holds) => !holds,
      (error: unknown) => {
        this.log.warn({ err: error }, 'could not read the fence at renewal');
        return false;
      },
    );
    if (fenced) {
      await this.kv.delete(KV_KEYS.executionLease, revision).catch(() => false);
      this.drop('a later holder took the fence');
    }
  }
}

/** Postgres' read_only_sql_transaction: a hot standby, or a primary fenced with default_transaction_read_only. */
function isReadOnlyDatabase(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '25006';
}
