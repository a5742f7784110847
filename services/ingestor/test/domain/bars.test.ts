import {
  bucketEnd,
  bucketStart,
  buildHigherBar,
  combineBars,
  MinuteAssembler,
  type Ohlcv,
} from '../../src/domain/bars';
import { parseTradingHours, TradingCalendar } from '../../src/domain/trading-hours';

const at = (iso: string) => Date.parse(iso);
const MINUTE = at('2026-11-24T15:00:00Z');

function part(ts: number, mid: number): Ohlcv {
  return {
    ts,
    open: mid.toFixed(5),
    high: (mid + 0.0002).toFixed(5),
    low: (mid - 0.0001).toFixed(5),
    close: (mid + 0.0001).toFixed(5),
    volume: '0',
  };
}

function parts(from: number, count: number): Ohlcv[] {
  return Array.from({ length: count }, (_, i) => part(from + i * 5_000, 1.48 + i * 0.00001));
}

describe('minute assembler', () => {
  it('builds a minute from its twelve 5-second bars: first open, highest high, lowest low, last close', () => {
    const assembler = new MinuteAssembler();
    const events = parts(MINUTE, 12).flatMap((p) => assembler.push(p));
    const minutes = events.filter((e) => e.type === 'minute');
    expect(minutes).toEqual([
      {
        type: 'minute',
        bar: { ts: MINUTE, open: '1.48000', high: '1.48031', low: '1.47990', close: '1.48021', volume: '0' },
      },
    ]);
  });

  it('does not publish the partial minute a subscription starts in, and says where live data begins', () => {
    const assembler = new MinuteAssembler();
    const events = parts(MINUTE + 35_000, 17).flatMap((p) => assembler.push(p));
    expect(events[0]).toEqual({
      type: 'run-start',
      from: MINUTE + 35_000,
      firstWholeMinute: MINUTE + 60_000,
      previousEnd: undefined,
    });
    const minutes = events.flatMap((e) => (e.type === 'minute' ? [e.bar.ts] : []));
    expect(minutes).toEqual([MINUTE + 60_000]);
  });

  it('drops a minute with a missing 5-second bar and starts a new run after the hole', () => {
    const assembler = new MinuteAssembler();
    const all = parts(MINUTE, 36);
    const withHole = [...all.slice(0, 15), ...all.slice(16)]; // 15:01:15 is lost
    const events = withHole.flatMap((p) => assembler.push(p));
    const minutes = events.flatMap((e) => (e.type === 'minute' ? [e.bar.ts] : []));
    expect(minutes).toEqual([MINUTE, MINUTE + 120_000]);
    expect(events.filter((e) => e.type === 'run-start')[1]).toEqual({
      type: 'run-start',
      from: MINUTE + 80_000,
      firstWholeMinute: MINUTE + 120_000,
      previousEnd: MINUTE + 75_000,
    });
  });
});

describe('higher timeframes', () => {
  const alwaysOpen = TradingCalendar.alwaysOpen('America/New_York');
  const minutes = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => part(from + i * 60_000, 1.48 + i * 0.0001));

  it('combines volumes exactly', () => {
    const bar = combineBars(MINUTE, [
      { ...part(MINUTE, 1), volume: '0.1' },
      { ...part(MINUTE + 60_000, 1), volume: '0.2' },
    ]);
    expect(bar.volume).toBe('0.3');
  });

  it('builds a 5-minute bar once all five minutes are there, not before', () => {
    const five = minutes(MINUTE, 5);
    const options = {
      timeframe: '5m' as const,
      start: MINUTE,
      calendar: alwaysOpen,
      isKnownEmpty: () => false,
    };
    expect(buildHigherBar({ ...options, minutes: five.slice(0, 4) })).toBeUndefined();
    expect(buildHigherBar({ ...options, minutes: five })).toEqual({
      ts: MINUTE,
      open: five[0]!.open,
      high: five[4]!.high,
      low: five[0]!.low,
      close: five[4]!.close,
      volume: '0',
    });
  });

  it('counts a minute history answered without a bar as complete, and a closed minute as not expected', () => {
    const forex = parseTradingHours('20261124:1715-20261125:1700', 'US/Eastern');
    const close = at('2026-11-24T22:00:00Z'); // 17:00 New York; the session reopens at 17:15
    const hour = bucketStart('1h', close, forex);
    expect(hour).toBe(close);
    const afterReopen = minutes(at('2026-11-24T22:15:00Z'), 45);
    const bar = buildHigherBar({
      timeframe: '1h',
      start: hour,
      minutes: afterReopen.filter((m) => m.ts !== at('2026-11-24T22:30:00Z')),
      calendar: forex,
      isKnownEmpty: (minute) => minute === at('2026-11-24T22:30:00Z'),
    });
    expect(bar?.ts).toBe(close);
    expect(bar?.open).toBe(afterReopen[0]!.open);
  });

  it('aligns 4-hour bars to local midnight and daily bars to the trading session', () => {
    const forex = parseTradingHours('20261124:1715-20261125:1700', 'US/Eastern');
    const time = at('2026-11-25T15:30:00Z'); // 10:30 New York
    expect(bucketStart('4h', time, forex)).toBe(at('2026-11-25T13:00:00Z')); // 08:00 New York
    expect(bucketStart('1d', time, forex)).toBe(at('2026-11-24T22:15:00Z'));
    expect(bucketEnd('1d', at('2026-11-24T22:15:00Z'), forex)).toBe(at('2026-11-25T22:00:00Z'));
  });
});
