import type { DrawdownLevel } from '@ibstack/risk';

import { DrawdownWatch } from '../../src/domain/drawdown-watch';

/** A time on 2026-12-02 (New York is UTC-5 in December, so its trading day turns at 22:00 UTC). */
const at = (utc: string) => Date.parse(`2026-12-02T${utc}Z`);
const T = at('14:00:00');

describe('drawdown watch', () => {
  it('warns once on the way up and asks for REDUCING once per crossing', () => {
    const watch = new DrawdownWatch();
    expect(watch.observe('normal', T)).toEqual({ warn: false, reduce: false });
    expect(watch.observe('warning', T)).toEqual({ warn: true, reduce: false });
    expect(watch.observe('warning', T)).toEqual({ warn: false, reduce: false });
    expect(watch.observe('reducing', T)).toEqual({ warn: false, reduce: true });
    // Still past the threshold (an operator may have resumed): not asked again.
    expect(watch.observe('reducing', T)).toEqual({ warn: false, reduce: false });
    // Back under the reducing threshold, then across it again.
    expect(watch.observe('warning', T)).toEqual({ warn: false, reduce: false });
    expect(watch.observe('reducing', T)).toEqual({ warn: false, reduce: true });
  });

  it('warns and asks for REDUCING together when drawdown jumps from normal past both thresholds', () => {
    const watch = new DrawdownWatch();
    expect(watch.observe('reducing', T)).toEqual({ warn: true, reduce: true });
    expect(watch.observe('normal', T)).toEqual({ warn: false, reduce: false });
    expect(watch.observe('reducing', T)).toEqual({ warn: true, reduce: true });
  });

  it('asks again on the next snapshot after a switch that failed', () => {
    const watch = new DrawdownWatch();
    expect(watch.observe('reducing', T).reduce).toBe(true);
    watch.reduceFailed();
    expect(watch.observe('reducing', T)).toEqual({ warn: false, reduce: true });
  });

  // A drawdown hovering at the warning threshold: one warning per trading day (17:00 New York), however
  // often it crosses back and forth.
  it.each<[string, Array<[DrawdownLevel, string]>, boolean[]]>([
    [
      'crossing back and forth within a day warns once',
      [
        ['warning', '14:00:00'],
        ['normal', '14:03:00'],
        ['warning', '14:06:00'],
        ['normal', '15:00:00'],
        ['warning', '21:59:59'],
      ],
      [true, false, false, false, false],
    ],
    [
      'the first crossing after 17:00 New York warns again',
      [
        ['warning', '14:00:00'],
        ['normal', '21:00:00'],
        ['warning', '22:00:00'],
      ],
      [true, false, true],
    ],
    [
      'staying in warning across 17:00 is not a new crossing',
      [
        ['warning', '21:00:00'],
        ['warning', '22:30:00'],
      ],
      [true, false],
    ],
    [
      'a jump past the reducing threshold warns even after a warning that day',
      [
        ['warning', '14:00:00'],
        ['normal', '14:03:00'],
        ['reducing', '14:06:00'],
      ],
      [true, false, true],
    ],
    [
      'after a reducing jump, a crossing into warning the same day does not warn again',
      [
        ['reducing', '14:00:00'],
        ['normal', '14:03:00'],
        ['warning', '14:06:00'],
      ],
      [true, false, false],
    ],
  ])('%s', (_name, steps, warnings) => {
    const watch = new DrawdownWatch();
    expect(steps.map(([level, time]) => watch.observe(level, at(time)).warn)).toEqual(warnings);
  });
});
