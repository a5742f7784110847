import { type Action, decide, type Observation } from '@ibstack/failover-agent';

const SYSTEM = '7315252439888824441';
const replica = { inRecovery: true, readOnly: false, systemId: SYSTEM, timeline: null };
const primaryOn = (timeline: number, readOnly = false) => ({
  inRecovery: false,
  readOnly,
  systemId: SYSTEM,
  timeline,
});
const base: Observation = {
  host: 'standby',
  lease: null,
  postgres: replica,
  takeoverPending: false,
  canRejoin: true,
  hasTakeoverCommand: true,
};
/** Held at epoch 42 on the database of timeline 3. */
const mine = { holder: 'standby', epoch: 42, postgres: { systemId: SYSTEM, timeline: 3 } };
const theirs = { holder: 'primary', epoch: 42, postgres: { systemId: SYSTEM, timeline: 3 } };

describe('failover decision', () => {
  it.each<[string, Partial<Observation>, Action]>([
    ['no lease: waits', {}, { kind: 'none', demotionPending: false }],
    [
      'Postgres not answering: waits',
      {
        lease: mine,
        postgres: { inRecovery: null, readOnly: false, systemId: null, timeline: null },
      },
      { kind: 'none', demotionPending: false },
    ],
    [
      'this host won the lease on a replica (epoch 0, no database named yet): promotes',
      { lease: { holder: 'standby', epoch: 0 } },
      { kind: 'promote', epoch: 0 },
    ],
    ['this host holds the lease on a replica: promotes', { lease: mine }, { kind: 'promote', epoch: 42 }],
    [
      'promoted: brings the gateway up',
      { lease: mine, postgres: primaryOn(3), takeoverPending: true },
      { kind: 'takeover', epoch: 42 },
    ],
    [
      'gateway already brought up since the promotion: nothing',
      { lease: mine, postgres: primaryOn(3), takeoverPending: false },
      { kind: 'none', demotionPending: false },
    ],
    [
      'a primary that held the lease all along: no takeover command',
      { lease: mine, postgres: primaryOn(3) },
      { kind: 'none', demotionPending: false },
    ],
    [
      'holds the lease on a fenced primary: unfences',
      { lease: mine, postgres: primaryOn(3, true) },
      { kind: 'unfence', epoch: 42 },
    ],
    [
      'won the key (epoch 0) on a fenced primary: unfences (execution’s guard checks before the fence)',
      { lease: { holder: 'standby', epoch: 0 }, postgres: primaryOn(2, true) },
      { kind: 'unfence', epoch: 0 },
    ],
    [
      'holds the lease for a later timeline than its fenced database: left fenced',
      { lease: mine, postgres: primaryOn(2, true) },
      {
        kind: 'conflict',
        epoch: 42,
        holder: 'standby',
        reason: 'this host holds the lease for timeline 3, but its database is on 2: left fenced',
      },
    ],
    [
      'another host holds the lease, this is a replica: nothing',
      { lease: theirs },
      { kind: 'none', demotionPending: false },
    ],
    [
      'the holder promoted past this writable former primary (the heal): fences first',
      { lease: theirs, postgres: primaryOn(2) },
      { kind: 'fence', epoch: 42, holder: 'primary' },
    ],
    [
      'fenced former primary on an earlier timeline: rewinds into a replica',
      { lease: theirs, postgres: primaryOn(2, true) },
      { kind: 'rejoin', epoch: 42, holder: 'primary' },
    ],
    [
      'fenced former primary without a rejoin command: demotion pending for the operator',
      { lease: theirs, postgres: primaryOn(2, true), canRejoin: false },
      { kind: 'none', demotionPending: true },
    ],
    [
      'the holder has not taken the fence yet (epoch 0, its replica not promoted): fences, never rewinds',
      { lease: { holder: 'primary', epoch: 0 }, postgres: primaryOn(2) },
      { kind: 'fence', epoch: 0, holder: 'primary' },
    ],
    [
      'fenced, the holder at epoch 0: waits, never rewinds from a replica',
      { lease: { holder: 'primary', epoch: 0 }, postgres: primaryOn(2, true) },
      { kind: 'none', demotionPending: true },
    ],
    [
      'a lease that names no database (an older execution): fenced, never rewound',
      { lease: { holder: 'primary', epoch: 42 }, postgres: primaryOn(2, true) },
      { kind: 'none', demotionPending: true },
    ],
    [
      'the holder on the same timeline as this writable database: fenced (it is not the holder)',
      { lease: theirs, postgres: primaryOn(3) },
      { kind: 'fence', epoch: 42, holder: 'primary' },
    ],
    [
      'the holder on the same timeline as this fenced database: not rewound (nothing to undo), operator',
      { lease: theirs, postgres: primaryOn(3, true) },
      { kind: 'none', demotionPending: true },
    ],
    [
      'the unsafe path: the lease names an earlier timeline than this database’s: never fenced nor rewound',
      { lease: { ...theirs, postgres: { systemId: SYSTEM, timeline: 2 } }, postgres: primaryOn(3) },
      {
        kind: 'conflict',
        epoch: 42,
        holder: 'primary',
        reason: 'this database is on a later timeline (3) than the holder’s (2): never rewound',
      },
    ],
    [
      'the unsafe path, already fenced: still never rewound',
      { lease: { ...theirs, postgres: { systemId: SYSTEM, timeline: 2 } }, postgres: primaryOn(3, true) },
      {
        kind: 'conflict',
        epoch: 42,
        holder: 'primary',
        reason: 'this database is on a later timeline (3) than the holder’s (2): never rewound',
      },
    ],
    [
      'the holder on another cluster: never rewound',
      { lease: { ...theirs, postgres: { systemId: '1', timeline: 9 } }, postgres: primaryOn(2, true) },
      {
        kind: 'conflict',
        epoch: 42,
        holder: 'primary',
        reason: `the holder's database is of another cluster (1, this one ${SYSTEM}): not rewound`,
      },
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(decide({ ...base, ...overrides })).toEqual(expected);
  });
});
