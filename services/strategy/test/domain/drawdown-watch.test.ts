import { DrawdownWatch } from '../../src/domain/drawdown-watch';

describe('drawdown watch', () => {
  it('warns once on the way up and asks for REDUCING once per crossing', () => {
    const watch = new DrawdownWatch();
    expect(watch.observe('normal')).toEqual({ warn: false, reduce: false });
    expect(watch.observe('warning')).toEqual({ warn: true, reduce: false });
    expect(watch.observe('warning')).toEqual({ warn: false, reduce: false });
    expect(watch.observe('reducing')).toEqual({ warn: false, reduce: true });
    // Still past the threshold (an operator may have resumed): not asked again.
    expect(watch.observe('reducing')).toEqual({ warn: false, reduce: false });
    // Back under the reducing threshold, then across it again.
    expect(watch.observe('warning')).toEqual({ warn: false, reduce: false });
    expect(watch.observe('reducing')).toEqual({ warn: false, reduce: true });
  });

  it('warns and asks for REDUCING together when drawdown jumps from normal past both thresholds', () => {
    const watch = new DrawdownWatch();
    expect(watch.observe('reducing')).toEqual({ warn: true, reduce: true });
    expect(watch.observe('normal')).toEqual({ warn: false, reduce: false });
    expect(watch.observe('reducing')).toEqual({ warn: true, reduce: true });
  });

  it('asks again on the next snapshot after a switch that failed', () => {
    const watch = new DrawdownWatch();
    expect(watch.observe('reducing').reduce).toBe(true);
    watch.reduceFailed();
    expect(watch.observe('reducing')).toEqual({ warn: false, reduce: true });
  });
});
