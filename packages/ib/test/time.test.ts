import { formatIbUtcTime, isNoHistoricalDataAnswer, parseIbTime, parseIbUtcTime } from '../src';

const at = (iso: string) => Date.parse(iso);

describe('IB times', () => {
  it.each([
    ['1795964400', 'US/Eastern', 1_795_964_400_000],
    ['20261124 10:00:00 US/Eastern', 'UTC', at('2026-11-24T15:00:00Z')],
    ['20261124 10:00:00', 'US/Eastern', at('2026-11-24T15:00:00Z')],
    ['20261124  10:00:00', 'US/Eastern', at('2026-11-24T15:00:00Z')],
    ['20260715 10:00:00', 'America/New_York', at('2026-07-15T14:00:00Z')],
    ['20261124-15:00:00', 'US/Eastern', at('2026-11-24T15:00:00Z')],
    ['20261124', 'US/Eastern', at('2026-11-24T05:00:00Z')],
  ])('reads %s (gateway zone %s)', (text, zone, expected) => {
    expect(parseIbTime(text, zone)).toBe(expected);
  });

  it.each([
    ['yesterday'],
    ['20261124 10:00:00 Mars/Olympus'],
    ['20261324-10:00:00'],
    ['20261124 25:00:00'],
    [''],
  ])('reads %j as NaN', (text) => {
    expect(parseIbTime(text, 'UTC')).toBeNaN();
  });

  it('trusts only the UTC form for a stamp', () => {
    expect(parseIbUtcTime('20261124-15:00:00')).toBe(at('2026-11-24T15:00:00Z'));
    expect(parseIbUtcTime('20261124 15:00:00')).toBeUndefined();
    expect(parseIbUtcTime('20261124 10:00:00 US/Eastern')).toBeUndefined();
  });

  it('writes the UTC form and reads it back', () => {
    const time = at('2026-03-08T07:05:09Z');
    expect(formatIbUtcTime(time)).toBe('20260308-07:05:09');
    expect(parseIbTime(formatIbUtcTime(time), 'US/Eastern')).toBe(time);
  });
});

describe('the "no data" answer', () => {
  it('is code 162 with the HMDS text, and only that', () => {
    expect(
      isNoHistoricalDataAnswer(
        162,
        'Historical Market Data Service error message:HMDS query returned no data: EUR.CAD@IDEALPRO Midpoint',
      ),
    ).toBe(true);
    expect(
      isNoHistoricalDataAnswer(
        162,
        'Historical Market Data Service error message:API historical data query cancelled: 1',
      ),
    ).toBe(false);
    expect(isNoHistoricalDataAnswer(200, 'HMDS query returned no data')).toBe(false);
  });
});
