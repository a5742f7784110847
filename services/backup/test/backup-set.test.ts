import { backupName, backupsToPrune, nextBackupDue, parseBackupName } from '../src/backup-set';

describe('backup names', () => {
  it('are sortable times with the reason, and read back', () => {
    const at = new Date('2026-12-03T15:01:02.345Z');
    const name = backupName(at, 'deploy');
    expect(name).toBe('ibstack-20261203T150102.345Z-deploy');
    expect(parseBackupName(name)).toEqual({ at, reason: 'deploy' });
    expect(backupName(new Date('2026-12-03T09:00:00.000Z'), 'scheduled') < name).toBe(true);
  });

  it.each([
    '.partial-ibstack-20261203T150102.345Z-manual',
    'ibstack-20261203T150102Z-manual',
    'ibstack-20261203T150102.345Z-other',
    '.lock',
    'notes.txt',
  ])('ignores %s', (name) => expect(parseBackupName(name)).toBeNull());
});

describe('retention', () => {
  const names = Array.from({ length: 12 }, (_, index) =>
    backupName(new Date(Date.UTC(2026, 11, 1 + index)), 'scheduled'),
  );

  it.each([
    [12, 10, 2],
    [10, 10, 0],
    [3, 10, 0],
    [12, 1, 11],
    [0, 10, 0],
  ])('of %i backups keeping %i deletes the %i oldest', (count, keep, deleted) => {
    const shuffled = [...names.slice(0, count)].reverse();
    expect(backupsToPrune(shuffled, keep)).toEqual(names.slice(0, deleted));
  });
});

describe('the schedule', () => {
  const hour = 3_600_000;
  const now = new Date('2026-12-03T12:00:00Z');

  it.each([
    ['no backup yet: now', null, now],
    [
      'the newest is 2 h old with a 6 h interval: in 4 h',
      new Date('2026-12-03T10:00:00Z'),
      new Date('2026-12-03T16:00:00Z'),
    ],
    ['the newest is 7 h old: now', new Date('2026-12-03T05:00:00Z'), now],
  ])('%s', (_, newest, due) => {
    expect(nextBackupDue(newest, 6 * hour, now)).toEqual(due);
  });
});
