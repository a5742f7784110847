import { findMissingRanges, historyEnd } from '../../src/domain/gaps';
import { parseTradingHours, TradingCalendar } from '../../src/domain/trading-hours';

const at = (iso: string) => Date.parse(iso);
const minute = 60_000;

describe('gap finding', () => {
  const alwaysOpen = TradingCalendar.alwaysOpen();

  it('finds the minutes between the last stored bar and now', () => {
    const from = at('2026-11-24T15:00:00Z');
    const present = new Set([from, from + minute, from + 2 * minute]);
    expect(
      findMissingRanges({ calendar: alwaysOpen, from, to: from + 10 * minute, present, covered: [] }),
    ).toEqual([{ start: from + 3 * minute, end: from + 10 * minute }]);
  });

  it('finds holes in the middle as separate runs', () => {
    const from = at('2026-11-24T15:00:00Z');
    const present = new Set([0, 1, 3, 4, 7].map((i) => from + i * minute));
    expect(
      findMissingRanges({ calendar: alwaysOpen, from, to: from + 8 * minute, present, covered: [] }),
    ).toEqual([
      { start: from + 2 * minute, end: from + 3 * minute },
      { start: from + 5 * minute, end: from + 7 * minute },
    ]);
  });

  it('does not count a closed market as a gap (a forex weekend)', () => {
    const forex = parseTradingHours(
      '20261126:1700-20261127:1700;20261127:CLOSED;20261128:CLOSED;20261129:1700-20261130:1700',
      'US/Eastern',
    );
    const friday1650 = at('2026-11-27T21:50:00Z');
    const sunday1710 = at('2026-11-29T22:10:00Z');
    expect(
      findMissingRanges({
        calendar: forex,
        from: friday1650,
        to: sunday1710,
        present: new Set(),
        covered: [],
      }),
    ).toEqual([
      { start: friday1650, end: at('2026-11-27T22:00:00Z') },
      { start: at('2026-11-29T22:00:00Z'), end: sunday1710 },
    ]);
  });

  it('skips minutes history already answered without a bar', () => {
    const from = at('2026-11-24T15:00:00Z');
    expect(
      findMissingRanges({
        calendar: alwaysOpen,
        from,
        to: from + 5 * minute,
        present: new Set(),
        covered: [{ start: from, end: from + 3 * minute }],
      }),
    ).toEqual([{ start: from + 3 * minute, end: from + 5 * minute }]);
  });

  it('finds nothing in an empty or reversed window', () => {
    const from = at('2026-11-24T15:00:00Z');
    expect(
      findMissingRanges({ calendar: alwaysOpen, from, to: from, present: new Set(), covered: [] }),
    ).toEqual([]);
  });
});

describe('where history ends', () => {
  const t = at('2026-11-24T15:00:00Z');
  const base = { settleMs: 2_000, liveMaxAgeMs: 15_000 };

  it('ends at the last settled minute without live data', () => {
    expect(
      historyEnd({ ...base, now: t + 30_000, firstWholeMinute: undefined, lastPartEnd: undefined }),
    ).toBe(t);
  });

  it('ends at the live seam while 5-second bars keep arriving', () => {
    const now = t + 10 * minute + 7_000;
    expect(historyEnd({ ...base, now, firstWholeMinute: t + minute, lastPartEnd: now - 2_000 })).toBe(
      t + minute,
    );
  });

  it('never ends inside the whole minutes of a live run that has not reached its seam yet', () => {
    const now = t + minute - 1_000;
    expect(
      historyEnd({
        ...base,
        now: now + 2 * minute,
        firstWholeMinute: t + 2 * minute,
        lastPartEnd: now + 2 * minute - 1_000,
      }),
    ).toBe(t + 2 * minute);
  });

  it('ignores an old seam once the 5-second bars have stopped: the minutes after it are history’s', () => {
    const now = t + 10 * minute + 7_000;
    expect(
      historyEnd({ ...base, now, firstWholeMinute: t + minute, lastPartEnd: t + 3 * minute + 5_000 }),
    ).toBe(t + 10 * minute);
  });
});
