import { type Action, decide, type Observation } from '@ibstack/failover-agent';

const base: Observation = {
  host: 'standby',
  lease: null,
  postgres: { inRecovery: true, readOnly: false },
  takeoverPending: false,
  canRejoin: true,
  hasTakeoverCommand: true,
};
const mine = { holder: 'standby', epoch: 42 };
const theirs = { holder: 'primary', epoch: 42 };

describe('failover decision', () => {
  it.each<[string, Partial<Observation>, Action]>([
    ['no lease: waits', {}, { kind: 'none', demotionPending: false }],
    [
      'Postgres not answering: waits',
      { lease: mine, postgres: { inRecovery: null, readOnly: false } },
      { kind: 'none', demotionPending: false },
    ],
    ['this host won the lease on a replica: promotes', { lease: mine }, { kind: 'promote', epoch: 42 }],
    [
      'promoted: brings the gateway up',
      { lease: mine, postgres: { inRecovery: false, readOnly: false }, takeoverPending: true },
      { kind: 'takeover', epoch: 42 },
    ],
    [
      'gateway already brought up since the promotion: nothing',
      { lease: mine, postgres: { inRecovery: false, readOnly: false }, takeoverPending: false },
      { kind: 'none', demotionPending: false },
    ],
    [
      'a primary that held the lease all along: no takeover command',
      { lease: mine, postgres: { inRecovery: false, readOnly: false } },
      { kind: 'none', demotionPending: false },
    ],
    [
      'holds the lease on a fenced primary: unfences',
      { lease: mine, postgres: { inRecovery: false, readOnly: true } },
      { kind: 'unfence', epoch: 42 },
    ],
    [
      'another host holds the lease, this is a replica: nothing',
      { lease: theirs },
      { kind: 'none', demotionPending: false },
    ],
    [
      'another host holds the lease, this is a writable primary: fences first',
      { lease: theirs, postgres: { inRecovery: false, readOnly: false } },
      { kind: 'fence', epoch: 42, holder: 'primary' },
    ],
    [
      'fenced former primary: rewinds into a replica',
      { lease: theirs, postgres: { inRecovery: false, readOnly: true } },
      { kind: 'rejoin', epoch: 42, holder: 'primary' },
    ],
    [
      'fenced former primary while the holder has not taken the fence yet (epoch 0, its replica not promoted): waits, never rewinds from a replica',
      { lease: { holder: 'primary', epoch: 0 }, postgres: { inRecovery: false, readOnly: true } },
      { kind: 'none', demotionPending: true },
    ],
    [
      'fenced former primary without a rejoin command: demotion pending for the operator',
      { lease: theirs, postgres: { inRecovery: false, readOnly: true }, canRejoin: false },
      { kind: 'none', demotionPending: true },
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(decide({ ...base, ...overrides })).toEqual(expected);
  });
});
