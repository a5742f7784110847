import { instantOfWallClock, sessionOf, wallClockMs } from '@ibstack/contracts';

const NY = 'America/New_York';
const at = (iso: string) => Date.parse(iso);
const session = (iso: string, hour = 17) => {
  const { day, startMs } = sessionOf(at(iso), NY, hour);
  return { day, start: new Date(startMs).toISOString() };
};

describe('forex sessions (17:00 New York)', () => {
  it('splits at 22:00 UTC in winter', () => {
    expect(session('2026-11-24T21:59:59.000Z')).toEqual({
      day: '2026-11-24',
      start: '2026-11-23T22:00:00.000Z',
    });
    expect(session('2026-11-24T22:00:00.000Z')).toEqual({
      day: '2026-11-25',
      start: '2026-11-24T22:00:00.000Z',
    });
  });

  it('splits at 21:00 UTC in summer', () => {
    expect(session('2026-07-14T20:59:00.000Z')).toEqual({
      day: '2026-07-14',
      start: '2026-07-13T21:00:00.000Z',
    });
    expect(session('2026-07-14T21:00:00.000Z')).toEqual({
      day: '2026-07-15',
      start: '2026-07-14T21:00:00.000Z',
    });
  });

  it('follows the clock change over a weekend (DST ended 2026-11-01)', () => {
    // Friday's session opened 17:00 EDT = 21:00 UTC; Sunday's opens 17:00 EST = 22:00 UTC.
    expect(session('2026-10-30T21:30:00.000Z')).toEqual({
      day: '2026-10-31',
      start: '2026-10-30T21:00:00.000Z',
    });
    expect(session('2026-11-01T22:30:00.000Z')).toEqual({
      day: '2026-11-02',
      start: '2026-11-01T22:00:00.000Z',
    });
  });
});

describe('calendar-day sessions (midnight New York)', () => {
  it('puts 23:59 New York on its own date and midnight on the next', () => {
    expect(session('2026-11-24T04:59:00.000Z', 0)).toEqual({
      day: '2026-11-23',
      start: '2026-11-23T05:00:00.000Z',
    });
    expect(session('2026-11-24T05:00:00.000Z', 0)).toEqual({
      day: '2026-11-24',
      start: '2026-11-24T05:00:00.000Z',
    });
  });
});

describe('sessions of instants between whole seconds', () => {
  it('start on the whole second, whatever the milliseconds of the instant asked about', () => {
    expect(session('2026-11-24T22:30:00.500Z')).toEqual({
      day: '2026-11-25',
      start: '2026-11-24T22:00:00.000Z',
    });
    expect(session('2026-11-24T21:59:59.999Z')).toEqual({
      day: '2026-11-24',
      start: '2026-11-23T22:00:00.000Z',
    });
  });

  it('keep the milliseconds on the wall clock', () => {
    expect(new Date(wallClockMs(at('2026-11-24T15:00:00.250Z'), NY)).toISOString()).toBe(
      '2026-11-24T10:00:00.250Z',
    );
  });
});

describe('wall clocks in a zone', () => {
  it.each([
    ['2026-11-24T15:00:00.000Z', NY, '2026-11-24T10:00:00.000Z'],
    ['2026-07-01T12:00:00.000Z', NY, '2026-07-01T08:00:00.000Z'],
    ['2026-11-24T15:00:00.000Z', 'US/Eastern', '2026-11-24T10:00:00.000Z'],
    ['2026-11-24T15:00:00.000Z', 'Europe/Zurich', '2026-11-24T16:00:00.000Z'],
  ])('%s in %s reads %s on the wall, and back', (instant, zone, wall) => {
    expect(new Date(wallClockMs(at(instant), zone)).toISOString()).toBe(wall);
    expect(new Date(instantOfWallClock(at(wall), zone)).toISOString()).toBe(instant);
  });
});
