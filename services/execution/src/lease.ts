/**
 * The execution lease (KV `leases`, key `execution`): only its holder connects to the gateway and places
 * orders. The KV revision of the winning create is the fencing epoch; it is stored in `leader_fence`, and
 * every order insert checks it, so a former holder that comes back cannot write an order.
 *
 * On a failover standby (infra/failover) the local Postgres is a read-only replica until the failover
 * agent promotes it, which it does on seeing this host win the lease: the fence claim waits for that,
 * renewing the lease meanwhile, and hands the lease back if the database stays read-only (the lease gate).
 *
 * The bucket's TTL expires a holder that stops renewing (NATS 2.9 has no per-key TTL). A holder also
 * stops itself when it has not renewed successfully for `ttl - margin` by its own monotonic clock, so it
 * gives up before a standby can take over, whatever the wall clocks say.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

import type { TypedKv } from '@ibstack/bus';
import { KV_KEYS, type Lease, nowIso } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { ExecutionStore } from './adapters/pg-store';

export interface LeaseOptions {
  holder: string;
  ttlMs: number;
  /** @default ttlMs / 3 */
  renewIntervalMs?: number;
  /** How often a standby tries to take the lease. @default 1000 */
  pollIntervalMs?: number;
  /** Safety margin before the TTL at which a holder that could not renew gives up. @default ttlMs / 4 */
  marginMs?: number;
}

export interface LeaseEvents {
  /** `tookOver` is true when another holder had the lease when this instance started waiting for it. */
  acquired: [epoch: number, tookOver: boolean];
  lost: [reason: string];
}

const RENEW_RETRY_MS = 250;

export class ExecutionLease extends EventEmitter<LeaseEvents> {
  private revision: number | null = null;
  private epochValue: number | null = null;
  private lastRenewed = 0;
  private acquiredAt = '';
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy = false;
  private waited = false;

  constructor(
    private readonly kv: TypedKv<Lease>,
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
    const renewInterval = this.options.renewIntervalMs ?? Math.floor(this.options.ttlMs / 3);
    this.schedule(
      this.epochValue === null
        ? (this.options.pollIntervalMs ?? 1_000)
        : // A failed renewal (a timeout while the cluster elects a new leader for the bucket) is retried
          // soon, not a whole interval later, so a holder rides out an election within its margin.
          failed
          ? Math.min(renewInterval, RENEW_RETRY_MS)
          : renewInterval,
    );
  }

  private value(epoch: number, acquiredAt: string): Lease {
    return { v: 1, holder: this.options.holder, epoch, acquiredAt, renewedAt: nowIso() };
  }

  private async tryAcquire(): Promise<void> {
    const acquiredAt = nowIso();
    const revision = await this.kv.create(KV_KEYS.executionLease, this.value(0, acquiredAt));
    if (revision === null) {
      this.waited = true;
      return;
    }
    const started = performance.now();
    // The create's revision is the epoch: stream sequences only grow, so a later holder's is larger.
    const renewed = await this.kv.update(KV_KEYS.executionLease, this.value(revision, acquiredAt), revision);
    if (renewed === null) return;
    const claimed = await this.claimFenceWhenWritable(revision, acquiredAt, renewed, started);
    if (claimed === null) {
      await this.kv.delete(KV_KEYS.executionLease, renewed).catch(() => false);
      return;
    }
    this.revision = claimed.revision;
    this.epochValue = revision;
    this.acquiredAt = acquiredAt;
    this.lastRenewed = claimed.renewedAt;
    this.log.info({ epoch: revision }, 'execution lease acquired');
    this.emit('acquired', revision, this.waited);
    this.waited = false;
  }

  /**
   * Claims the fence once the database takes writes, renewing the lease meanwhile. Null (the lease is
   * to be handed back) when another instance took it, or the database stayed read-only for six TTLs.
   */
  private async claimFenceWhenWritable(
    epoch: number,
    acquiredAt: string,
    revision: number,
    renewedAt: number,
  ): Promise<{ revision: number; renewedAt: number } | null> {
    const renewInterval = this.options.renewIntervalMs ?? Math.floor(this.options.ttlMs / 3);
    const giveUpAt = performance.now() + this.options.ttlMs * 6;
    let current = { revision, renewedAt };
    for (;;) {
      try {
        await this.store.claimFence(epoch, this.options.holder);
        return current;
      } catch (error) {
        if (!isReadOnlyDatabase(error)) throw error;
      }
      if (performance.now() >= giveUpAt) {
        this.log.warn({ epoch }, 'won the lease but the database stays read-only; handing the lease back');
        return null;
      }
      if (performance.now() - current.renewedAt >= renewInterval) {
        const started = performance.now();
        const next = await this.kv.update(
          KV_KEYS.executionLease,
          this.value(epoch, acquiredAt),
          current.revision,
        );
        if (next === null) return null;
        current = { revision: next, renewedAt: started };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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
        return;
      }
      this.drop('another instance holds the lease');
      return;
    }
    this.revision = revision;
    this.lastRenewed = started;
  }
}

/** Postgres' read_only_sql_transaction: a hot standby, or a primary fenced with default_transaction_read_only. */
function isReadOnlyDatabase(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '25006';
}
