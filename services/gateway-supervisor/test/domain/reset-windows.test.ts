import { activeResetWindows, DEFAULT_RESET_WINDOWS, ResetWindowTable } from '../../src/domain/reset-windows';
import { weeklyReauthPhase, weeklyReauthWindow, DEFAULT_WEEKLY_REAUTH } from '../../src/domain/weekly-reauth';

const names = (region: 'north_america' | 'europe' | 'asia', iso: string) =>
  activeResetWindows(DEFAULT_RESET_WINDOWS, region, Date.parse(iso)).map((window) => window.name);

describe('reset windows', () => {
  it.each([
    ['north_america', '2026-03-04T05:14:59Z', []], // Wed 00:14:59 New York (EST)
    ['north_america', '2026-03-04T05:15:00Z', ['daily reset']],
    ['north_america', '2026-03-04T06:44:59Z', ['daily reset']],
    ['north_america', '2026-03-04T06:45:00Z', []],
    ['north_america', '2026-07-08T04:30:00Z', ['daily reset']], // 00:30 EDT in summer
    ['north_america', '2026-03-07T05:30:00Z', ['weekend maintenance']], // Sat 00:30: no daily reset on Saturday
    ['north_america', '2026-03-07T04:30:00Z', ['weekend maintenance']], // Fri 23:30 New York
    ['europe', '2026-03-04T05:30:00Z', ['daily reset']], // 06:30 Zurich
    ['asia', '2026-03-04T12:30:00Z', ['second daily reset']], // 20:30 Hong Kong
    ['asia', '2026-03-03T21:00:00Z', ['first daily reset']], // 05:00 Hong Kong
  ] as const)('%s at %s: %j', (region, iso, expected) => {
    expect(names(region, iso)).toEqual(expected);
  });

  it('refuses a table with an unknown region, a bad time or zone, naming each', () => {
    const result = ResetWindowTable.safeParse({
      mars: [],
      europe: [{ name: 'x', days: ['mon'], start: '25:00', end: '01:00', zone: 'Europe/Nowhere' }],
    });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Unrecognized key: "mars"/),
        'europe.0.start: must be HH:MM (24-hour)',
        'europe.0.zone: must be an IANA time zone',
      ]),
    );
  });
});

describe('weekly re-authentication', () => {
  it('finds the last Sunday 01:00 New York token reset and the 17:00 deadline', () => {
    const window = weeklyReauthWindow(DEFAULT_WEEKLY_REAUTH, Date.parse('2026-03-04T20:00:00Z'));
    expect(new Date(window.resetAt).toISOString()).toBe('2026-03-01T06:00:00.000Z');
    expect(new Date(window.deadlineAt).toISOString()).toBe('2026-03-01T22:00:00.000Z');
  });

  it('is not due before the reset on Sunday morning', () => {
    const saturdayNight = Date.parse('2026-03-01T05:30:00Z'); // Sun 00:30 New York
    expect(weeklyReauthWindow(DEFAULT_WEEKLY_REAUTH, saturdayNight).resetAt).toBe(
      Date.parse('2026-02-22T06:00:00Z'),
    );
    expect(weeklyReauthPhase(DEFAULT_WEEKLY_REAUTH, saturdayNight, Date.parse('2026-02-28T12:00:00Z'))).toBe(
      'not_due',
    );
  });

  it.each([
    ['2026-03-01T15:00:00Z', undefined, 'expected'],
    ['2026-03-01T23:00:00Z', undefined, 'overdue'],
    ['2026-03-01T23:00:00Z', '2026-03-01T12:00:00Z', 'not_due'],
    ['2026-03-02T14:00:00Z', undefined, 'overdue'], // Monday 09:00 New York
    ['2026-03-02T15:00:00Z', undefined, 'not_due'], // Monday 10:00: plainly logged out from here on
  ] as const)('at %s with last login %s: %s', (iso, lastLogin, phase) => {
    expect(
      weeklyReauthPhase(DEFAULT_WEEKLY_REAUTH, Date.parse(iso), lastLogin && Date.parse(lastLogin)),
    ).toBe(phase);
  });
});
