import { InstrumentTable } from '../../src/market/instruments';
import {
  barLabel,
  durationSeconds,
  historicalBars,
  maxDurationSeconds,
  parseBarSize,
  parseDuration,
  parseEndDateTime,
  windowStart,
} from '../../src/market/historical';
import { computeBar, type WhatToShow } from '../../src/market/bars';
import { QuoteBook } from '../../src/market/quotes';
import { MarketSchedule } from '../../src/market/trading-hours';

const table = new InstrumentTable();
const book = new QuoteBook(table, 42);
const EUR_CAD = table.get('EURCAD');
const AAPL = table.get('AAPL');
const at = (iso: string) => Date.parse(iso);

describe('historical data requests', () => {
  it('parses IB duration strings and bar sizes', () => {
    expect(parseDuration('3600 S')).toEqual({ amount: 3600, unit: 'S' });
    expect(parseDuration('2 W')).toEqual({ amount: 2, unit: 'W' });
    expect(parseDuration('1 Y')).toEqual({ amount: 1, unit: 'Y' });
    expect(parseDuration('1 X')).toBeUndefined();
    expect(parseDuration('0 D')).toBeUndefined();
    expect(parseBarSize('1 secs')).toMatchObject({ kind: 'seconds', seconds: 1 });
    expect(parseBarSize('5 mins')).toMatchObject({ kind: 'seconds', seconds: 300 });
    expect(parseBarSize('1 hour')).toMatchObject({ kind: 'seconds', seconds: 3600 });
    expect(parseBarSize('1 day')).toMatchObject({ kind: 'day' });
    expect(parseBarSize('1W')).toMatchObject({ kind: 'week' });
    expect(parseBarSize('1 month')).toMatchObject({ kind: 'month' });
    expect(parseBarSize('7 mins')).toBeUndefined();
  });

  it('applies IB step-size limits: 1-second bars up to 1800 S, 1-minute bars up to a day', () => {
    const limit = (bar: string, duration: string) =>
      durationSeconds(parseDuration(duration)!) <= maxDurationSeconds(parseBarSize(bar)!);
    expect(limit('1 secs', '1800 S')).toBe(true);
    expect(limit('1 secs', '3600 S')).toBe(false);
    expect(limit('5 secs', '3600 S')).toBe(true);
    expect(limit('1 min', '1 D')).toBe(true);
    expect(limit('1 min', '2 D')).toBe(false);
    expect(limit('5 mins', '1 W')).toBe(true);
    expect(limit('1 hour', '1 M')).toBe(true);
    expect(limit('1 hour', '1 Y')).toBe(false);
    expect(limit('1 day', '5 Y')).toBe(true);
    expect(limit('1 day', '31 Y')).toBe(false);
  });

  it('reads end times in UTC, with an explicit zone, or in the gateway zone (flagged as implied)', () => {
    const now = at('2026-03-03T15:00:00Z');
    expect(parseEndDateTime('', now)).toEqual({ ok: true, time: now, impliedZone: false });
    expect(parseEndDateTime('20260303-12:00:00', now)).toEqual({
      ok: true,
      time: at('2026-03-03T12:00:00Z'),
      impliedZone: false,
    });
    expect(parseEndDateTime('20260303 12:00:00 US/Eastern', now)).toEqual({
      ok: true,
      time: at('2026-03-03T17:00:00Z'),
      impliedZone: false,
    });
    expect(parseEndDateTime('20260303 12:00:00', now)).toEqual({
      ok: true,
      time: at('2026-03-03T17:00:00Z'),
      impliedZone: true,
    });
    expect(parseEndDateTime('yesterday', now).ok).toBe(false);
  });

  it('returns no bars inside a closed window and skips the weekend in a longer one', () => {
    const schedule = new MarketSchedule('forex');
    const bar = parseBarSize('1 hour')!;
    const weekend = historicalBars({
      book,
      schedule,
      instrument: EUR_CAD,
      whatToShow: 'MIDPOINT',
      bar,
      start: at('2026-03-07T00:00:00Z'),
      end: at('2026-03-08T12:00:00Z'),
      regularHoursOnly: false,
      formatDate: 1,
    });
    expect(weekend).toEqual([]);
    const spanning = historicalBars({
      book,
      schedule,
      instrument: EUR_CAD,
      whatToShow: 'MIDPOINT',
      bar,
      start: at('2026-03-06T20:00:00Z'),
      end: at('2026-03-08T23:00:00Z'),
      regularHoursOnly: false,
      formatDate: 2,
    });
    expect(spanning.map((b) => Number(b.label) * 1000)).toEqual([
      at('2026-03-06T20:00:00Z'),
      at('2026-03-06T21:00:00Z'),
      at('2026-03-08T21:00:00Z'),
      at('2026-03-08T22:00:00Z'),
    ]);
  });

  it('labels bars as IB does for formatDate 1 and 2, with daily bars as yyyyMMdd', () => {
    const start = at('2026-03-03T14:30:00Z');
    expect(barLabel(parseBarSize('5 mins')!, AAPL, start, 1)).toBe('20260303 09:30:00 US/Eastern');
    expect(barLabel(parseBarSize('5 mins')!, AAPL, start, 2)).toBe(String(start / 1000));
    expect(barLabel(parseBarSize('1 day')!, AAPL, at('2026-03-03T05:00:00Z'), 1)).toBe('20260303');
    // A forex day runs 17:00–17:00 New York and carries the date it ends on.
    expect(barLabel(parseBarSize('1 day')!, EUR_CAD, at('2026-03-02T22:00:00Z'), 2)).toBe('20260303');
  });

  it('builds a long bar from the same quotes as its short bars: open, close, high and low agree', () => {
    const schedule = new MarketSchedule('always-open');
    const start = at('2026-03-03T15:00:00Z');
    const minute = historicalBars({
      book,
      schedule,
      instrument: EUR_CAD,
      whatToShow: 'MIDPOINT',
      bar: parseBarSize('1 min')!,
      start,
      end: start + 60_000,
      regularHoursOnly: false,
      formatDate: 2,
    });
    const fives = historicalBars({
      book,
      schedule,
      instrument: EUR_CAD,
      whatToShow: 'MIDPOINT',
      bar: parseBarSize('5 secs')!,
      start,
      end: start + 60_000,
      regularHoursOnly: false,
      formatDate: 2,
    });
    expect(minute).toHaveLength(1);
    expect(fives).toHaveLength(12);
    expect(minute[0]!.open).toBe(fives[0]!.open);
    expect(minute[0]!.close).toBe(fives[11]!.close);
    expect(minute[0]!.high).toBe(Math.max(...fives.map((b) => b.high)));
    expect(minute[0]!.low).toBe(Math.min(...fives.map((b) => b.low)));
    const direct = computeBar(book, EUR_CAD, 'MIDPOINT', start, [{ start, end: start + 5_000 }]);
    expect(fives[0]).toMatchObject({
      open: direct!.open,
      high: direct!.high,
      low: direct!.low,
      close: direct!.close,
    });
  });

  it.each([
    ['EURCAD', 'MIDPOINT'],
    ['EURCAD', 'BID'],
    ['EURCAD', 'ASK'],
    ['EURCAD', 'BID_ASK'],
    ['USDJPY', 'MIDPOINT'],
    ['AAPL', 'TRADES'],
  ] as const)(
    'gives a %s %s hour bar the high and low of the live 5-second bars inside it',
    (name, whatToShow: WhatToShow) => {
      const freshBook = new QuoteBook(table, 7);
      const schedule = new MarketSchedule('always-open');
      const instrument = table.get(name);
      const start = at('2026-03-03T15:00:00Z');
      // The live stream's 5-second bars, computed as market-data.ts does for reqRealTimeBars.
      const live = Array.from({ length: 720 }, (_, i) => {
        const barStart = start + i * 5_000;
        const parts = schedule.openIntervals(instrument.schedule, barStart, barStart + 5_000, false);
        return computeBar(freshBook, instrument, whatToShow, barStart, parts, 1)!;
      });
      const hours = historicalBars({
        book: freshBook,
        schedule,
        instrument,
        whatToShow,
        bar: parseBarSize('1 hour')!,
        start,
        end: start + 3_600_000,
        regularHoursOnly: false,
        formatDate: 2,
      });
      expect(hours).toHaveLength(1);
      const hour = hours[0]!;
      expect(hour.high).toBe(Math.max(...live.map((bar) => bar.high)));
      expect(hour.low).toBe(Math.min(...live.map((bar) => bar.low)));
      if (whatToShow !== 'BID_ASK') {
        expect(hour.open).toBe(live[0]!.open);
        expect(hour.close).toBe(live[live.length - 1]!.close);
      }
      if (whatToShow === 'TRADES') expect(hour.volume).toBe(live.reduce((sum, bar) => sum + bar.volume, 0));
    },
  );

  it('reports trades with volume for stocks and -1 volume for forex', () => {
    const schedule = new MarketSchedule('always-open');
    const start = at('2026-03-03T15:00:00Z');
    const [trades] = historicalBars({
      book,
      schedule,
      instrument: AAPL,
      whatToShow: 'TRADES',
      bar: parseBarSize('1 min')!,
      start,
      end: start + 60_000,
      regularHoursOnly: true,
      formatDate: 1,
    });
    expect(trades!.volume).toBeGreaterThan(0);
    expect(trades!.wap).toBeGreaterThanOrEqual(trades!.low);
    expect(trades!.wap).toBeLessThanOrEqual(trades!.high);
    const [midpoint] = historicalBars({
      book,
      schedule,
      instrument: EUR_CAD,
      whatToShow: 'MIDPOINT',
      bar: parseBarSize('1 min')!,
      start,
      end: start + 60_000,
      regularHoursOnly: false,
      formatDate: 1,
    });
    expect(midpoint).toMatchObject({ volume: -1, wap: -1, count: -1 });
  });

  it('computes durations in calendar time ending at the end time', () => {
    const end = at('2026-03-31T15:00:00Z');
    expect(windowStart({ amount: 1, unit: 'M' }, end)).toBe(at('2026-02-28T16:00:00Z'));
    expect(windowStart({ amount: 90, unit: 'S' }, end)).toBe(end - 90_000);
  });
});
