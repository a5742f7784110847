/**
 * The lease survives what happens to its bucket and to its holder: a lost and recreated `leases` bucket
 * (revisions start again at 1), a bucket created with another TTL, and a holder killed and restarted
 * under the same identity, which takes its own lease over without waiting out the TTL.
 */
import { KV_KEYS, Lease } from '@ibstack/contracts';
import { eventually, type SpawnedProcess } from '@ibstack/test-kit';

import type { ExecutionService } from '../../src/service';
import {
  type Harness,
  intent,
  ordersOf,
  publishIntent,
  reconciliationRuns,
  startHarness,
  startInProcess,
  startProcess,
} from './harness';

describe('execution lease survival', () => {
  let harness: Harness | undefined;
  let service: ExecutionService | undefined;
  let child: SpawnedProcess | undefined;

  afterEach(async () => {
    await service?.stop();
    await child?.kill('SIGKILL');
    await harness?.close();
    service = undefined;
    child = undefined;
    harness = undefined;
  });

  const leaseStream = (h: Harness) => `KV_${h.bus.namespace.bucket('leases')}`;

  it('takes the lease again after the leases bucket was lost and recreated, under a larger epoch', async () => {
    harness = await startHarness();
    service = await startInProcess(harness);
    await reconciliationRuns(harness, 1);
    await publishIntent(harness.bus, intent());
    await eventually(async () => expect((await ordersOf(harness!))[0]?.status).toBe('filled'));
    const firstEpoch = Number((await ordersOf(harness))[0]!.leader_epoch);

    // NATS lost its data: the bucket is gone, and the next service to open it creates it afresh.
    await harness.bus.jsm.streams.delete(leaseStream(harness));
    await harness.bus.kv('leases', Lease, { ttlMs: 1500 });
    await eventually(() => expect(service!.isLeader()).toBe(false), { timeoutMs: 15_000 });
    await eventually(() => expect(service!.isLeader()).toBe(true), { timeoutMs: 20_000 });

    await publishIntent(harness.bus, intent({ side: 'SELL' }));
    await eventually(
      async () =>
        expect((await ordersOf(harness!)).map((order) => order.status)).toEqual(['filled', 'filled']),
      { timeoutMs: 30_000 },
    );
    expect(Number((await ordersOf(harness))[1]!.leader_epoch)).toBeGreaterThan(firstEpoch);
    const lease = await (await harness.bus.kv('leases', Lease)).get(KV_KEYS.executionLease);
    expect(lease?.value.epoch).toBe(Number((await ordersOf(harness))[1]!.leader_epoch));
  }, 90_000);

  it('brings a bucket created with another TTL to LEASE_TTL_MS at start', async () => {
    harness = await startHarness();
    // A bucket left by an earlier configuration (LEASE_TTL_MS was 60 s).
    await harness.bus.kv('leases', Lease, { ttlMs: 60_000 });
    const before = await harness.bus.jsm.streams.info(leaseStream(harness));
    expect(before.config.max_age).toBe(60_000 * 1_000_000);

    service = await startInProcess(harness, { LEASE_TTL_MS: '1500' });
    const after = await harness.bus.jsm.streams.info(leaseStream(harness));
    expect(after.config.max_age).toBe(1_500 * 1_000_000);
    // The key now ages out with the new TTL, so a dead holder is replaced after 1.5 s, as configured.
    await eventually(() => expect(service!.isLeader()).toBe(true), { timeoutMs: 15_000 });
  }, 60_000);

  it('a holder killed and restarted under the same identity takes its lease over before the TTL ends', async () => {
    const ttlMs = 60_000;
    harness = await startHarness({}, { LEASE_TTL_MS: String(ttlMs), INSTANCE_ID: 'solo' });
    const leases = await harness.bus.kv('leases', Lease, { ttlMs });
    child = await startProcess(harness);
    const held = await eventually(
      async () => {
        const entry = await leases.get(KV_KEYS.executionLease);
        expect(entry?.value.holder).toBe('solo');
        expect(entry!.value.epoch).toBeGreaterThan(0);
        return entry!.value;
      },
      { timeoutMs: 30_000 },
    );
    await publishIntent(harness.bus, intent());
    await eventually(async () => expect((await ordersOf(harness!))[0]?.status).toBe('filled'), {
      timeoutMs: 30_000,
    });
    const last = (await leases.get(KV_KEYS.executionLease))!.value;

    await child.kill('SIGKILL');
    child = await startProcess(harness);
    const taken = await eventually(
      async () => {
        const entry = await leases.get(KV_KEYS.executionLease);
        expect(entry?.value.epoch).toBeGreaterThan(held.epoch);
        return entry!.value;
      },
      { timeoutMs: 45_000 },
    );
    // Taken while the killed holder's key was still alive: it did not age out, it was taken over.
    expect(Date.parse(taken.acquiredAt)).toBeLessThan(Date.parse(last.renewedAt) + ttlMs);
    await publishIntent(harness.bus, intent({ side: 'SELL' }));
    await eventually(
      async () =>
        expect((await ordersOf(harness!)).map((order) => order.status)).toEqual(['filled', 'filled']),
      { timeoutMs: 45_000 },
    );
    expect(Number((await ordersOf(harness))[1]!.leader_epoch)).toBe(taken.epoch);
  }, 150_000);
});
