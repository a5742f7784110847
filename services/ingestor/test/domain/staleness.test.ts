import { StalenessMonitor } from '../../src/domain/staleness';

describe('staleness', () => {
  it('reports stale once no tick arrived for the limit while the market is open, and recovery after', () => {
    const monitor = new StalenessMonitor(30_000);
    monitor.evaluate(0, true);
    monitor.tick(0);
    expect(monitor.evaluate(10_000, true)).toEqual({ stale: false, stalenessSeconds: 10 });
    expect(monitor.evaluate(30_000, true)).toEqual({
      stale: true,
      stalenessSeconds: 30,
      transition: 'became_stale',
    });
    expect(monitor.evaluate(40_000, true).transition).toBeUndefined();
    monitor.tick(41_000);
    expect(monitor.evaluate(42_000, true)).toEqual({
      stale: false,
      stalenessSeconds: 1,
      transition: 'recovered',
    });
  });

  it('never reports a closed market as stale, however long it stays closed', () => {
    const monitor = new StalenessMonitor(30_000);
    monitor.tick(0);
    expect(monitor.evaluate(3_600_000, false)).toEqual({ stale: false, stalenessSeconds: 0 });
    expect(monitor.evaluate(48 * 3_600_000, false)).toEqual({ stale: false, stalenessSeconds: 0 });
  });

  it('counts from the opening, not from the last tick before the closure', () => {
    const monitor = new StalenessMonitor(30_000);
    monitor.tick(0);
    monitor.evaluate(1_000_000, false);
    expect(monitor.evaluate(2_000_000, true)).toEqual({ stale: false, stalenessSeconds: 0 });
    expect(monitor.evaluate(2_029_000, true).stale).toBe(false);
    expect(monitor.evaluate(2_030_000, true).stale).toBe(true);
  });
});
