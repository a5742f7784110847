import { MarketSchedule } from '../../src/market/trading-hours';

const at = (iso: string) => Date.parse(iso);

describe('market schedule', () => {
  const schedule = new MarketSchedule('forex');

  it('opens forex on Sunday 17:00 New York and closes it on Friday 17:00', () => {
    expect(schedule.isOpen('forex', at('2026-03-06T21:59:59Z'))).toBe(true); // Friday 16:59:59 EST
    expect(schedule.isOpen('forex', at('2026-03-06T22:00:00Z'))).toBe(false); // Friday 17:00 EST
    expect(schedule.isOpen('forex', at('2026-03-07T15:00:00Z'))).toBe(false); // Saturday
    expect(schedule.isOpen('forex', at('2026-03-08T20:59:00Z'))).toBe(false); // Sunday 16:59 EDT
    expect(schedule.isOpen('forex', at('2026-03-08T21:00:00Z'))).toBe(true); // Sunday 17:00 EDT
    expect(schedule.isOpen('forex', at('2026-03-04T03:00:00Z'))).toBe(true); // Tuesday night
  });

  it('keeps US stocks to 04:00–20:00 on weekdays and 09:30–16:00 for regular hours', () => {
    expect(schedule.isOpen('us-equity', at('2026-03-03T14:00:00Z'))).toBe(true); // 09:00 EST
    expect(schedule.isOpen('us-equity', at('2026-03-03T14:00:00Z'), true)).toBe(false);
    expect(schedule.isOpen('us-equity', at('2026-03-03T14:30:00Z'), true)).toBe(true);
    expect(schedule.isOpen('us-equity', at('2026-03-04T01:30:00Z'))).toBe(false); // 20:30 EST
    expect(schedule.isOpen('us-equity', at('2026-03-07T15:00:00Z'))).toBe(false); // Saturday
  });

  it('writes trading hours in IB format with CLOSED days', () => {
    expect(schedule.hoursString('forex', at('2026-03-03T15:00:00Z'), false)).toBe(
      '20260302:1700-20260303:1700;20260303:1700-20260304:1700;20260304:1700-20260305:1700;' +
        '20260305:1700-20260306:1700;20260306:CLOSED;20260307:CLOSED;20260308:1700-20260309:1700',
    );
    expect(schedule.hoursString('us-equity', at('2026-03-03T15:00:00Z'), true, 2)).toBe(
      '20260302:0930-20260302:1600;20260303:0930-20260303:1600',
    );
  });

  it('lists the open parts of a range across a weekend', () => {
    const intervals = schedule.openIntervals('forex', at('2026-03-06T21:00:00Z'), at('2026-03-08T22:00:00Z'));
    expect(intervals).toEqual([
      { start: at('2026-03-06T21:00:00Z'), end: at('2026-03-06T22:00:00Z') },
      { start: at('2026-03-08T21:00:00Z'), end: at('2026-03-08T22:00:00Z') },
    ]);
    expect(schedule.nextOpen('forex', at('2026-03-07T12:00:00Z'))).toBe(at('2026-03-08T21:00:00Z'));
  });

  it('never closes in always-open mode', () => {
    const open = new MarketSchedule('always-open');
    expect(open.isOpen('forex', at('2026-03-07T15:00:00Z'))).toBe(true);
    expect(open.sessionEnd('forex', at('2026-03-07T15:00:00Z'))).toBeUndefined();
  });
});
