import { rsiMeanReversion } from '@ibstack/strategy';

import { flatBars } from '../bars';
import { build, weights } from './strategy-context';

/*
 * Hand computation, Wilder RSI(2), closes 10 11 12 11 10 9 10 11 12. Every change is ±1, so the average
 * gain and loss always sum to 1 and RSI = 100 × average gain. The first averages are plain means of the
 * first two changes; after that avg = avg + (x − avg) / 2.
 *
 *   bar close change  avg gain   avg loss   RSI      regime (oversold 30, exit 50, overbought 70)
 *    1   10     -       -          -          -        flat
 *    2   11    +1       -          -          -        flat
 *    3   12    +1       1          0          100      short  -> target -1
 *    4   11    -1       0.5        0.5        50       flat   -> target 0 (short exits at <= 50)
 *    5   10    -1       0.25       0.75       25       long   -> target +1
 *    6    9    -1       0.125      0.875      12.5     long
 *    7   10    +1       0.5625     0.4375     56.25    flat   -> target 0 (long exits at >= 50)
 *    8   11    +1       0.78125    0.21875    78.125   short  -> target -1
 *    9   12    +1       0.890625   0.109375   89.0625  short
 */
const bars = flatBars([10, 11, 12, 11, 10, 9, 10, 11, 12], '2026-11-24T15:00:00.000Z');

describe('rsi-mean-reversion', () => {
  it('buys oversold, sells overbought and exits at the middle', () => {
    expect(weights(build(rsiMeanReversion, { period: 2 }), bars)).toEqual([
      [3, -1],
      [4, 0],
      [5, 1],
      [7, 0],
      [8, -1],
    ]);
  });

  it('computes the RSI values of the hand calculation', () => {
    const strategy = build(rsiMeanReversion, { period: 2 });
    const values: Array<number | null> = [];
    for (const bar of bars) {
      strategy.onBar(bar, { now: 0, warmingUp: false, position: () => '0' });
      values.push((strategy.inspect!().EURCAD as { rsi: number | null }).rsi);
    }
    const expected = [null, null, 100, 50, 25, 12.5, 56.25, 78.125, 89.0625];
    values.forEach((value, index) => {
      if (expected[index] === null) expect(value).toBeNull();
      else expect(value).toBeCloseTo(expected[index]!, 9);
    });
  });

  it('only goes long and flat when shorting is off', () => {
    expect(weights(build(rsiMeanReversion, { period: 2, allowShort: false }), bars)).toEqual([
      [5, 1],
      [7, 0],
    ]);
  });

  it('rejects levels out of order', () => {
    const result = rsiMeanReversion.parameters.safeParse({ oversold: 60, exit: 50 });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toBe('need oversold < exit < overbought');
  });
});
