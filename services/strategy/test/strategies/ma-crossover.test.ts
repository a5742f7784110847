import { maCrossover } from '@ibstack/strategy';

import { flatBars } from '../bars';
import { build, weights } from './strategy-context';

/*
 * Hand computation, fast = SMA(2), slow = SMA(3), closes 10 11 12 11 10 9 10 11 12:
 *
 *   bar close  fast                slow                   side
 *    1   10    -                   -                      -
 *    2   11    10.5                -                      -
 *    3   12    11.5                (10+11+12)/3 = 11      above (first comparison: no signal)
 *    4   11    11.5                (11+12+11)/3 = 11.33   above
 *    5   10    10.5                (12+11+10)/3 = 11      below  -> cross down: target -1
 *    6    9     9.5                (11+10+9)/3  = 10      below
 *    7   10     9.5                (10+9+10)/3  = 9.67    below
 *    8   11    10.5                (9+10+11)/3  = 10      above  -> cross up: target +1
 *    9   12    11.5                (10+11+12)/3 = 11      above
 */
const CLOSES = [10, 11, 12, 11, 10, 9, 10, 11, 12];
const bars = flatBars(CLOSES, '2026-11-24T15:00:00.000Z');

describe('ma-crossover', () => {
  it('goes short on the cross down and long on the cross up, never on the first comparison', () => {
    const strategy = build(maCrossover, { fast: 2, slow: 3 });
    expect(weights(strategy, bars)).toEqual([
      [5, -1],
      [8, 1],
    ]);
  });

  it('goes flat instead of short when shorting is off', () => {
    expect(weights(build(maCrossover, { fast: 2, slow: 3, allowShort: false }), bars)).toEqual([
      [5, 0],
      [8, 1],
    ]);
  });

  it('exposes the averages it decided on', () => {
    const strategy = build(maCrossover, { fast: 2, slow: 3 });
    weights(strategy, bars.slice(0, 5));
    expect(strategy.inspect!()).toEqual({ EURCAD: { fast: 10.5, slow: 11, side: 'below' } });
  });

  it('keeps instruments apart', () => {
    const strategy = build(maCrossover, { fast: 2, slow: 3 }, ['EUR.CAD', 'EUR.USD']);
    const other = flatBars([1, 1, 1, 1, 1], '2026-11-24T15:00:00.000Z', 'EURUSD');
    // Interleaving a flat EURUSD series changes nothing for EURCAD.
    const mixed = bars.flatMap((bar, index) => (other[index] ? [bar, other[index]] : [bar]));
    const decided = weights(strategy, mixed).map(([, weight]) => weight);
    expect(decided).toEqual([-1, 1]);
  });

  it('rejects parameters where the fast average is not faster', () => {
    const result = maCrossover.parameters.safeParse({ fast: 5, slow: 5 });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toBe('fast must be smaller than slow');
    expect(maCrossover.parameters.safeParse({ fast: 2, slow: 5, speed: 1 }).success).toBe(false);
  });
});
