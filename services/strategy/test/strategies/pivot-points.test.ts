import type { Bar } from '@ibstack/contracts';
import type Decimal from 'decimal.js';
import { floorPivots, pivotPoints } from '@ibstack/strategy';
import { makeBar } from '@ibstack/test-kit';

import { build, weights } from './strategy-context';

function bar(ts: string, open: string, high: string, low: string, close: string): Bar {
  return makeBar({ ts, open, high, low, close, receivedAt: ts });
}
const flat = (ts: string, price: string) => bar(ts, price, price, price, price);

/*
 * In November New York is UTC−5, so the forex session boundary (17:00 New York) is 22:00 UTC.
 *
 * Session A (trading day 2026-11-24) opens 2026-11-23T22:00Z; its bars give high 1.5100, low 1.4900 and
 * a last close of 1.5000. Classic floor pivots for session B, by hand:
 *   P  = (1.51 + 1.49 + 1.50) / 3 = 1.50
 *   R1 = 2P − L = 3.00 − 1.49 = 1.51      S1 = 2P − H = 3.00 − 1.51 = 1.49
 *   R2 = P + (H − L) = 1.50 + 0.02 = 1.52 S2 = P − (H − L) = 1.48
 *
 * Session B (opens 2026-11-24T22:00Z), closes and what a fade-the-levels trader does:
 *   1.5000 nothing · 1.4890 ≤ S1 buy · 1.4950 hold · 1.5010 ≥ P take profit · 1.5120 ≥ R1 sell
 *   · 1.5250 > R2 stop out.
 */
const sessionA = [
  bar('2026-11-23T22:00:00.000Z', '1.5000', '1.5050', '1.4990', '1.5020'),
  bar('2026-11-24T21:58:00.000Z', '1.5020', '1.5100', '1.4900', '1.4950'),
  bar('2026-11-24T21:59:00.000Z', '1.4950', '1.5000', '1.4950', '1.5000'),
];
const sessionB = [
  flat('2026-11-24T22:00:00.000Z', '1.5000'),
  flat('2026-11-24T22:01:00.000Z', '1.4890'),
  flat('2026-11-24T22:02:00.000Z', '1.4950'),
  flat('2026-11-24T22:03:00.000Z', '1.5010'),
  flat('2026-11-24T22:04:00.000Z', '1.5120'),
  flat('2026-11-24T22:05:00.000Z', '1.5250'),
];

describe('pivot-points', () => {
  it('computes classic floor pivots exactly', () => {
    const levels = floorPivots('1.5100', '1.4900', '1.5000');
    expect(
      Object.fromEntries(Object.entries(levels).map(([k, v]: [string, Decimal]) => [k, v.toFixed()])),
    ).toEqual({
      pivot: '1.5',
      r1: '1.51',
      s1: '1.49',
      r2: '1.52',
      s2: '1.48',
    });
  });

  it('fades S1 and R1 with levels from the previous forex session (17:00 New York)', () => {
    const strategy = build(pivotPoints, {});
    expect(weights(strategy, [...sessionA, ...sessionB])).toEqual([
      [5, 1],
      [7, 0],
      [8, -1],
      [9, 0],
    ]);
    expect(strategy.inspect!()).toMatchObject({
      EURCAD: {
        session: '2026-11-25',
        levels: { pivot: '1.5', r1: '1.51', s1: '1.49', r2: '1.52', s2: '1.48' },
      },
    });
  });

  it('uses no levels from a session it did not see from the start', () => {
    expect(weights(build(pivotPoints, {}), [...sessionA.slice(1), ...sessionB])).toEqual([]);
  });

  it('splits stock sessions at midnight New York instead', () => {
    // Calendar-day sessions: the first bar (17:00 New York on the 23rd) is a day seen only in part, and
    // every later bar (16:58 to 17:05 New York on the 24th) is one session, so no levels ever exist.
    const strategy = build(pivotPoints, {}, ['AAPL']);
    const stock = [...sessionA, ...sessionB].map((b) => ({ ...b, instrument: 'AAPL' }));
    expect(weights(strategy, stock)).toEqual([]);
    expect(strategy.inspect!()).toMatchObject({ AAPL: { session: '2026-11-24' } });
  });

  it('rejects an unknown time zone', () => {
    expect(pivotPoints.parameters.safeParse({ timeZone: 'Mars/Olympus' }).success).toBe(false);
  });
});
