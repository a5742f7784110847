import type { LeaseMark } from '@ibstack/contracts';

import { type DatabaseState, leaseGuard, type LeaseGuardDecision } from '../../src/domain/lease-guard';

const SYSTEM = '7315252439888824441';
/** The last grant: epoch 7, to the standby, on timeline 3. */
const mark: LeaseMark = {
  v: 1,
  holder: 'standby',
  epoch: 7,
  postgres: { systemId: SYSTEM, timeline: 3 },
  at: '2026-12-04T03:00:00.000Z',
};
const writable = (timeline: number, fenceEpoch: number): DatabaseState => ({
  inRecovery: false,
  readOnly: false,
  systemId: SYSTEM,
  timeline,
  fenceEpoch,
});
const replica: DatabaseState = {
  inRecovery: true,
  readOnly: false,
  systemId: SYSTEM,
  timeline: null,
  fenceEpoch: 7,
};

describe('lease guard: may this database take the execution lease', () => {
  it.each<[string, DatabaseState, LeaseMark | null, LeaseGuardDecision['kind'], number | null]>([
    ['no grant yet: any writable database, from epoch 1', writable(1, 0), null, 'eligible', 1],
    ['no grant yet, a replica: waits for its promotion', replica, null, 'wait_writable', null],
    [
      'the database granted last (same timeline, its fence): a larger epoch',
      writable(3, 7),
      mark,
      'eligible',
      8,
    ],
    [
      'the same database whose fence another instance on it moved on: a larger epoch still',
      writable(3, 9),
      mark,
      'eligible',
      8,
    ],
    [
      'a replica promoted after the grant (a later timeline): the takeover',
      writable(4, 7),
      mark,
      'eligible',
      8,
    ],
    [
      'a promoted replica that had not replayed the last fence yet: eligible, above the mark',
      writable(4, 6),
      mark,
      'eligible',
      8,
    ],
    [
      'a replica (in recovery): may win the key and wait for the promotion',
      replica,
      mark,
      'wait_writable',
      null,
    ],
    [
      'fenced read-only on the granted timeline: waits for the fence to be lifted',
      { ...writable(3, 7), readOnly: true },
      mark,
      'wait_writable',
      null,
    ],
    [
      'the former primary whose replica was promoted (an earlier timeline): refused',
      writable(2, 6),
      mark,
      'refused',
      null,
    ],
    [
      'the same, fenced read-only by its agent: refused (not merely waiting)',
      { ...writable(2, 6), readOnly: true },
      mark,
      'refused',
      null,
    ],
    [
      'the same, with a fence epoch above the mark (it went on granting alone): refused all the same',
      writable(2, 12),
      mark,
      'refused',
      null,
    ],
    [
      'the granted timeline with an older fence (a backup restored into the same cluster): above the mark',
      writable(3, 5),
      mark,
      'eligible',
      8,
    ],
    [
      'another cluster (a fresh initdb): refused',
      { ...writable(5, 0), systemId: '1' },
      mark,
      'refused',
      null,
    ],
    ['a replica of another cluster: refused', { ...replica, systemId: '1' }, mark, 'refused', null],
  ])('%s', (_name, database, lastGrant, kind, minEpoch) => {
    const decision = leaseGuard(database, lastGrant);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'eligible') {
      expect(decision.minEpoch).toBe(minEpoch);
      expect(decision.identity).toEqual({ systemId: database.systemId, timeline: database.timeline });
    }
  });
});
