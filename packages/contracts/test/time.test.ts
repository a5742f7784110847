import { formatIsoMs, parseIsoMs, instantOfWallClock, sessionOf, wallClockMs } from '@ibstack/contracts';

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

describe('formatIsoMs', () => {
  it('writes what toISOString writes, over 1970–9999 and every day of leap and common years', () => {
    let state = 54321;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    const end = Date.UTC(10000, 0, 1);
    for (let i = 0; i < 100_000; i++) {
      const time = Math.floor(random() * (i % 2 === 0 ? end : Date.UTC(2200, 0, 1)));
      expect(formatIsoMs(time)).toBe(new Date(time).toISOString());
    }
    for (let time = Date.UTC(1999, 11, 31); time < Date.UTC(2002, 0, 2); time += 86_400_000 - 1)
      expect(formatIsoMs(time)).toBe(new Date(time).toISOString());
    for (const time of [0, 1, 999, Date.UTC(2000, 1, 29), Date.UTC(2100, 1, 28, 23, 59, 59, 999), end - 1])
      expect(formatIsoMs(time)).toBe(new Date(time).toISOString());
  });

  it('leaves times outside 1970–9999 and fractions of a millisecond to toISOString', () => {
    for (const time of [-1, -86_400_001, Date.UTC(10000, 0, 1), Date.UTC(275760, 8, 13), 1.5, -0])
      expect(formatIsoMs(time)).toBe(new Date(time).toISOString());
    expect(() => formatIsoMs(Number.NaN)).toThrow(RangeError);
  });
});

describe('parseIsoMs', () => {
  it('reads what toISOString writes as Date.parse does, over 1970–2200 and every day of leap and common years', () => {
    // A seeded walk over the range, plus every millisecond field and day boundary of four years.
    let state = 12345;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    const end = Date.UTC(2200, 0, 1);
    for (let i = 0; i < 100_000; i++) {
      const time = Math.floor(random() * end);
      expect(parseIsoMs(new Date(time).toISOString())).toBe(time);
    }
    for (let time = Date.UTC(1999, 11, 31); time < Date.UTC(2002, 0, 2); time += 86_400_000 - 1)
      expect(parseIsoMs(new Date(time).toISOString())).toBe(time);
    expect(parseIsoMs('2000-02-29T00:00:00.000Z')).toBe(Date.parse('2000-02-29T00:00:00.000Z'));
    expect(parseIsoMs('2024-02-29T23:59:59.999Z')).toBe(Date.parse('2024-02-29T23:59:59.999Z'));
  });

  it.each([
    '2025-02-29T00:00:00.000Z',
    '2100-02-29T00:00:00.000Z',
    '2025-04-31T00:00:00.000Z',
    '2025-13-01T00:00:00.000Z',
    '2025-00-10T00:00:00.000Z',
    '2025-01-00T00:00:00.000Z',
    '2025-01-01T24:00:00.000Z',
    '2025-01-01T00:60:00.000Z',
    '2025-01-01T00:00:60.000Z',
    '2025-0a-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '2025-01-01T00:00:00Z',
    '2025-01-01T00:00:00.000+01:00',
    '2025-01-01',
    '+002025-01-01T00:00:00.000Z',
    'not a time',
    '',
  ])('leaves other forms and out-of-range fields to Date.parse: %s', (text) => {
    expect(parseIsoMs(text)).toEqual(Date.parse(text));
  });
});
