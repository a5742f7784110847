import type { Lease, LeaseMark } from '@ibstack/contracts';
import { eventually, silentLogger } from '@ibstack/test-kit';

import type { ExecutionStore } from '../src/adapters/pg-store';
import type { DatabaseState } from '../src/domain/lease-guard';
import { ExecutionLease } from '../src/lease';

/** One key with a sequence, as SingleKeyKv keeps it: compare-and-set on the last revision. */
class MemoryKey<T> {
  seq = 0;
  entry: { value: T; revision: number } | null = null;
  writes = 0;
  get() {
    return Promise.resolve(this.entry ? { ...this.entry } : null);
  }
  create(_key: string, value: T) {
    if (this.entry) return Promise.resolve(null);
    return Promise.resolve(this.write(value));
  }
  update(_key: string, value: T, revision: number) {
    return Promise.resolve(revision === this.seq ? this.write(value) : null);
  }
  delete(_key: string, revision?: number) {
    if (revision !== undefined && revision !== this.seq) return Promise.resolve(false);
    this.seq++;
    this.entry = null;
    return Promise.resolve(true);
  }
  private write(value: T): number {
    this.writes++;
    this.seq++;
    this.entry = { value, revision: this.seq };
    return this.seq;
  }
}

const SYSTEM = '7315252439888824441';
const mark = (epoch: number, timeline: number): LeaseMark => ({
  v: 1,
  holder: 'primary',
  epoch,
  postgres: { systemId: SYSTEM, timeline },
  at: '2026-12-04T03:00:00.000Z',
});

function setUp(database: DatabaseState, lastGrant: LeaseMark | null) {
  const leases = new MemoryKey<Lease>();
  const marks = new MemoryKey<LeaseMark>();
  if (lastGrant) void marks.create('execution', lastGrant);
  marks.writes = 0;
  let fence = database.fenceEpoch;
  const store = {
    fence: {
      take: (_holder: string, atLeast = 1) => {
        fence = Math.max(fence + 1, atLeast);
        return Promise.resolve(fence);
      },
      holds: (epoch: number) => Promise.resolve(epoch === fence),
    },
  } as unknown as ExecutionStore;
  const db = { ...database };
  const lease = new ExecutionLease(
    leases,
    store,
    {
      holder: 'standby',
      ttlMs: 1_000,
      guard: { marks, database: () => Promise.resolve({ ...db }) },
    },
    silentLogger(),
  );
  const events: string[] = [];
  lease.on('acquired', (epoch) => events.push(`acquired ${epoch}`));
  lease.on('refused', (reason) => events.push(`refused: ${reason}`));
  return { lease, leases, marks, db, events };
}

describe('execution lease with the guard (the lease mark and this database)', () => {
  const started: ExecutionLease[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((lease) => lease.stop()));
  });

  it('a former primary replaced by a promoted replica never contends for the key, even when it is free', async () => {
    const world = setUp(
      { inRecovery: false, readOnly: false, systemId: SYSTEM, timeline: 2, fenceEpoch: 6 },
      mark(7, 3),
    );
    started.push(world.lease);
    world.lease.start();
    await eventually(() => expect(world.events).toEqual([expect.stringMatching(/^refused: .*timeline 2/)]));
    // The refusal comes before the create in the same poll: the free key was never written.
    expect(world.leases.writes).toBe(0);
    expect(world.marks.writes).toBe(0);
    expect(world.lease.isHeld()).toBe(false);
  });

  it('a replica wins the key, and once promoted takes an epoch above the mark, records the grant and names its database', async () => {
    const world = setUp(
      { inRecovery: true, readOnly: false, systemId: SYSTEM, timeline: null, fenceEpoch: 5 },
      mark(7, 3),
    );
    started.push(world.lease);
    world.lease.start();
    await eventually(() => expect(world.leases.entry?.value.epoch).toBe(0));
    expect(world.leases.entry?.value.postgres).toBeUndefined();
    Object.assign(world.db, { inRecovery: false, timeline: 4 });
    await eventually(() => expect(world.events).toEqual(['acquired 8']));
    expect(world.marks.entry?.value).toMatchObject({
      holder: 'standby',
      epoch: 8,
      postgres: { systemId: SYSTEM, timeline: 4 },
    });
    expect(world.leases.entry?.value).toMatchObject({
      holder: 'standby',
      epoch: 8,
      postgres: { systemId: SYSTEM, timeline: 4 },
    });
  });

  it('a replica that turns out replaced once it takes writes hands the key back without taking the fence', async () => {
    const world = setUp(
      { inRecovery: true, readOnly: false, systemId: SYSTEM, timeline: null, fenceEpoch: 5 },
      mark(7, 5),
    );
    started.push(world.lease);
    world.lease.start();
    await eventually(() => expect(world.leases.entry?.value.epoch).toBe(0));
    Object.assign(world.db, { inRecovery: false, timeline: 4 });
    await eventually(() => expect(world.events).toEqual([expect.stringMatching(/^refused: .*timeline 4/)]));
    await eventually(() => expect(world.leases.entry).toBeNull());
    expect(world.marks.writes).toBe(0);
    expect(world.lease.isHeld()).toBe(false);
  });

  it('no grant yet: takes epoch 1 above its own fence and writes the first mark', async () => {
    const world = setUp(
      { inRecovery: false, readOnly: false, systemId: SYSTEM, timeline: 1, fenceEpoch: 0 },
      null,
    );
    started.push(world.lease);
    world.lease.start();
    await eventually(() => expect(world.events).toEqual(['acquired 1']));
    expect(world.marks.entry?.value).toMatchObject({ epoch: 1, postgres: { timeline: 1 } });
  });
});
