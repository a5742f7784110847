import { ManualClock } from '@ibstack/test-kit';

import { GatewayClock } from '../../src/domain/gateway-clock';

describe('gateway clock', () => {
  it('uses the wall clock until the gateway answers', () => {
    const wall = new ManualClock();
    const clock = new GatewayClock({ wallClock: wall.now });
    expect(clock.now()).toBe(wall.now());
    expect(clock.calibrated).toBe(false);
  });

  it('follows a gateway whose clock runs at our pace with an offset', () => {
    const wall = new ManualClock(Date.parse('2026-11-24T15:00:00.300Z'));
    const clock = new GatewayClock({ wallClock: wall.now });
    const gatewayStart = Date.parse('2026-11-24T15:00:07.000Z'); // 7 s ahead of us
    for (let i = 0; i < 10; i++) {
      clock.observe(Math.floor((gatewayStart + i * 1000 + 300) / 1000));
      wall.advance(1000);
    }
    expect(clock.speed).toBe(1);
    const truth = gatewayStart + 10_000 + 300;
    expect(Math.abs(clock.now() - truth)).toBeLessThan(600);
  });

  it('learns the pace of a simulated gateway that runs sixty times faster', () => {
    const wall = new ManualClock(Date.parse('2026-11-24T15:00:00.000Z'));
    const clock = new GatewayClock({ wallClock: wall.now });
    const simStart = Date.parse('2026-11-27T12:00:00.000Z');
    const simAt = (elapsed: number) => simStart + elapsed * 60;
    let elapsed = 0;
    for (let i = 0; i < 5; i++) {
      clock.observe(Math.floor(simAt(elapsed) / 1000));
      wall.advance(250);
      elapsed += 250;
    }
    expect(clock.speed).toBeGreaterThan(55);
    expect(clock.speed).toBeLessThan(65);
    expect(Math.abs(clock.now() - simAt(elapsed))).toBeLessThan(3_000);
    expect(clock.wallDelayUntil(simAt(elapsed) + 60_000)).toBeGreaterThan(900);
    expect(clock.wallDelayUntil(simAt(elapsed) + 60_000)).toBeLessThan(1_100);
  });

  it('never goes backwards, even when a later answer is behind the estimate', () => {
    const wall = new ManualClock();
    const clock = new GatewayClock({ wallClock: wall.now });
    clock.observe(Math.floor(wall.now() / 1000) + 5);
    const before = clock.now();
    clock.observe(Math.floor(wall.now() / 1000) - 5);
    expect(clock.now()).toBeGreaterThanOrEqual(before);
    clock.observeLowerBound(before + 60_000);
    expect(clock.now()).toBeGreaterThanOrEqual(before + 60_000);
  });
});
