import { backoffDelayMs, DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from '../src';

describe('backoffDelayMs', () => {
  it.each([
    [1, 250],
    [2, 500],
    [3, 1_000],
    [5, 4_000],
    [6, 5_000],
    [40, 5_000],
    [0, 250],
  ])('waits before retry %i: %i ms (250 ms doubling to 5 s)', (attempt, expected) => {
    expect(backoffDelayMs(attempt, { firstMs: 250, maxMs: 5_000 })).toBe(expected);
  });

  it('grows by the multiplier it is given', () => {
    expect(backoffDelayMs(3, { firstMs: 100, maxMs: 10_000, multiplier: 3 })).toBe(900);
  });

  it('never exceeds the cap, even where the exponent overflows', () => {
    expect(backoffDelayMs(5_000, { firstMs: 1_000, maxMs: 30_000 })).toBe(30_000);
  });
});

describe('time constants', () => {
  it('are milliseconds', () => {
    expect([SECOND_MS, MINUTE_MS, HOUR_MS, DAY_MS]).toEqual([1_000, 60_000, 3_600_000, 86_400_000]);
  });
});
