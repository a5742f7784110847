import { parseTradingHours, resolveTimeZone } from '../../src/domain/trading-hours';
import { TradingHoursError } from '../../src/errors';

const at = (iso: string) => Date.parse(iso);

// IDEALPRO forex as IB lists it: one session per weekday from 17:15 to 17:00 New York, none on Friday/Saturday.
const FOREX =
  '20261122:1715-20261123:1700;20261123:1715-20261124:1700;20261124:1715-20261125:1700;' +
  '20261125:1715-20261126:1700;20261126:1715-20261127:1700;20261127:CLOSED;20261128:CLOSED';

describe('trading hours', () => {
  const forex = parseTradingHours(FOREX, 'US/Eastern');

  it('is open inside a listed session and closed between sessions', () => {
    expect(forex.isOpen(at('2026-11-24T15:00:00Z'))).toBe(true); // Tuesday 10:00 New York
    expect(forex.isOpen(at('2026-11-24T22:05:00Z'))).toBe(false); // Tuesday 17:05, the daily break
    expect(forex.isOpen(at('2026-11-24T22:15:00Z'))).toBe(true); // 17:15, the next session
  });

  it('keeps the session running into a day listed as CLOSED (Thursday evening to Friday 17:00)', () => {
    expect(forex.isOpen(at('2026-11-27T15:00:00Z'))).toBe(true); // Friday 10:00
    expect(forex.isOpen(at('2026-11-27T22:00:00Z'))).toBe(false); // Friday 17:00
    expect(forex.isOpen(at('2026-11-28T17:00:00Z'))).toBe(false); // Saturday noon
  });

  it('borrows the sessions of the same weekday for days outside the list', () => {
    // A week before the list: Tuesday 10:00 is open, Sunday 17:15 opens (closed 17:00–17:15).
    expect(forex.isOpen(at('2026-11-17T15:00:00Z'))).toBe(true);
    expect(forex.isOpen(at('2026-11-15T22:10:00Z'))).toBe(false);
    expect(forex.isOpen(at('2026-11-15T22:15:00Z'))).toBe(true);
    // Friday before the list: open in the morning (Thursday's session, borrowed) and closed 17:00–17:15.
    expect(forex.isOpen(at('2026-11-20T15:00:00Z'))).toBe(true);
    expect(forex.isOpen(at('2026-11-20T22:05:00Z'))).toBe(false);
    // Listed CLOSED once, Friday evening and Saturday of another week are not known to be closed: history
    // is asked (and answers them as empty once) rather than risk a hole.
    expect(forex.isOpen(at('2026-11-20T22:30:00Z'))).toBe(true);
    expect(forex.isOpen(at('2026-11-14T17:00:00Z'))).toBe(true);
  });

  // US stocks in Thanksgiving week: Thursday closed, Friday closes early at 17:00 instead of 20:00.
  const THANKSGIVING =
    '20261123:0400-20261123:2000;20261124:0400-20261124:2000;20261125:0400-20261125:2000;' +
    '20261126:CLOSED;20261127:0400-20261127:1700;20261128:CLOSED;20261129:CLOSED';
  const stocks = parseTradingHours(THANKSGIVING, 'US/Eastern');

  it('does not copy a holiday or an early close of the list into other weeks', () => {
    expect(stocks.isOpen(at('2026-11-26T15:00:00Z'))).toBe(false); // the holiday itself
    expect(stocks.isOpen(at('2026-11-27T22:30:00Z'))).toBe(false); // 17:30 on the early-close day
    // The Thursday and Friday before: regular sessions, 04:00–20:00.
    expect(stocks.isOpen(at('2026-11-19T15:00:00Z'))).toBe(true);
    expect(stocks.isOpen(at('2026-11-20T22:30:00Z'))).toBe(true);
    expect(stocks.isOpen(at('2026-11-21T00:59:00Z'))).toBe(true);
    expect(stocks.isOpen(at('2026-11-21T01:00:00Z'))).toBe(false);
  });

  it('treats a weekday listed CLOSED in every listed week as a weekly closure', () => {
    const twoWeeks = parseTradingHours(
      `${THANKSGIVING};20261130:0400-20261130:2000;20261205:CLOSED;20261206:CLOSED`,
      'US/Eastern',
    );
    expect(twoWeeks.isOpen(at('2026-11-21T17:00:00Z'))).toBe(false); // the Saturday before
    expect(twoWeeks.isOpen(at('2026-11-19T15:00:00Z'))).toBe(true);
  });

  it('keeps local session times across a daylight-saving change when borrowing', () => {
    // 2026-11-01 ends DST in New York: the week before, 17:15 New York is 21:15 UTC, not 22:15.
    expect(forex.isOpen(at('2026-10-27T21:15:00Z'))).toBe(true);
    expect(forex.isOpen(at('2026-10-27T21:05:00Z'))).toBe(false);
  });

  it('lists the open parts of a window, merged', () => {
    const intervals = forex.openIntervals(at('2026-11-24T21:00:00Z'), at('2026-11-24T23:00:00Z'));
    expect(intervals).toEqual([
      { start: at('2026-11-24T21:00:00Z'), end: at('2026-11-24T22:00:00Z') },
      { start: at('2026-11-24T22:15:00Z'), end: at('2026-11-24T23:00:00Z') },
    ]);
    expect(forex.openIntervals(at('2026-11-28T00:00:00Z'), at('2026-11-29T00:00:00Z'))).toEqual([]);
  });

  it('reads the older format with same-day ranges separated by commas', () => {
    const hours = parseTradingHours('20090507:0700-1830,1830-2330;20090508:CLOSED', 'US/Eastern');
    // From Thursday 00:00 to Saturday 00:00 New York: Thursday's two ranges touch, Friday is closed.
    expect(hours.openIntervals(at('2009-05-07T04:00:00Z'), at('2009-05-09T04:00:00Z'))).toEqual([
      { start: at('2009-05-07T11:00:00Z'), end: at('2009-05-08T03:30:00Z') },
    ]);
  });

  it('finds the unmerged session holding a time, for daily bars', () => {
    const session = forex.sessionContaining(at('2026-11-25T03:00:00Z'));
    expect(session).toEqual({ start: at('2026-11-24T22:15:00Z'), end: at('2026-11-25T22:00:00Z') });
    expect(forex.sessionContaining(at('2026-11-28T12:00:00Z'))).toBeUndefined();
  });

  it('treats an empty text as always open', () => {
    const hours = parseTradingHours('', 'UTC');
    expect(hours.isAlwaysOpen).toBe(true);
    expect(hours.isOpen(at('2026-11-28T12:00:00Z'))).toBe(true);
  });

  it('gives a weekday the list never names the longest listed day, and counts all days open without one', () => {
    const hours = parseTradingHours('20090507:0700-1830;20090508:CLOSED', 'US/Eastern');
    expect(hours.isOpen(at('2009-05-06T12:00:00Z'))).toBe(true); // a Wednesday: never described
    expect(hours.isOpen(at('2009-05-06T10:30:00Z'))).toBe(false); // … gets Thursday's 07:00 open
    const closed = parseTradingHours('20090508:CLOSED', 'US/Eastern');
    expect(closed.isOpen(at('2009-05-06T10:30:00Z'))).toBe(true);
    expect(hours.isOpen(at('2009-05-14T12:00:00Z'))).toBe(true); // next Thursday: borrowed
    expect(hours.isOpen(at('2009-05-14T10:30:00Z'))).toBe(false); // Thursday 06:30, before the open
  });

  it('reads IB zone ids that are not IANA names as the zone IB means', () => {
    expect(resolveTimeZone('EST (Eastern Standard Time)')).toBe('America/New_York');
    expect(resolveTimeZone('US/Eastern')).toBe('US/Eastern');
    expect(resolveTimeZone('MET')).toBe('Europe/Berlin');
    expect(() => resolveTimeZone('Mars/Olympus')).toThrow(TradingHoursError);
  });

  it('rejects text that is not IB trading hours', () => {
    expect(() => parseTradingHours('Monday 9-5', 'US/Eastern')).toThrow(TradingHoursError);
    expect(() => parseTradingHours('20261122:1715-20261122:1700', 'US/Eastern')).toThrow(/ends before/);
    expect(() => parseTradingHours('20261122:2561-20261123:1700', 'US/Eastern')).toThrow(/bad time/);
  });
});
