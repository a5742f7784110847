import { ManualClock } from '@ibstack/test-kit';

import { IB_PACING_LIMITS, PacingLimiter } from '../../src/domain/pacing';

function request(identity: string, contract = 'EURCAD') {
  return { identity, contract };
}

describe('historical pacing limiter', () => {
  it('lets five requests for one contract go at once and holds the sixth until two seconds have passed', () => {
    const clock = new ManualClock();
    const limiter = new PacingLimiter(IB_PACING_LIMITS, clock.now);
    for (let i = 0; i < 5; i++) {
      expect(limiter.delayFor(request(`r${i}`))).toBe(0);
      limiter.record(request(`r${i}`));
      clock.advance(10);
    }
    // Sent at 0, 10, … 40; the first leaves the 2 s window at 2000 (+ margin).
    expect(limiter.delayFor(request('r5'))).toBe(2_000 + 100 - 50);
    expect(limiter.delayFor(request('other', 'USDJPY'))).toBe(0);
  });

  it('holds an identical request for fifteen seconds after the first', () => {
    const clock = new ManualClock();
    const limiter = new PacingLimiter(IB_PACING_LIMITS, clock.now);
    limiter.record(request('same'));
    clock.advance(5_000);
    expect(limiter.delayFor(request('same'))).toBe(10_000 + 100);
    clock.advance(10_100);
    expect(limiter.delayFor(request('same'))).toBe(0);
  });

  it('holds the sixty-first request of ten minutes until the oldest leaves the window', () => {
    const clock = new ManualClock();
    const limiter = new PacingLimiter(IB_PACING_LIMITS, clock.now);
    for (let i = 0; i < 60; i++) {
      limiter.record(request(`r${i}`, `contract${i}`));
      clock.advance(5_000);
    }
    // The first was sent 300 s ago: it leaves the 600 s window in 300 s.
    expect(limiter.delayFor(request('r60', 'contract60'))).toBe(300_000 + 100);
    expect(limiter.recentRequests).toBe(60);
  });

  it('counts a double-weight request (BID_ASK) twice', () => {
    const clock = new ManualClock();
    const limiter = new PacingLimiter({ ...IB_PACING_LIMITS, marginMs: 0 }, clock.now);
    limiter.record({ identity: 'a', contract: 'X', weight: 2 });
    limiter.record({ identity: 'b', contract: 'X', weight: 2 });
    expect(limiter.delayFor({ identity: 'c', contract: 'X' })).toBe(0);
    expect(limiter.delayFor({ identity: 'c', contract: 'X', weight: 2 })).toBe(2_000);
  });

  it('follows shrunken limits, so tests can exercise the rules quickly', () => {
    const clock = new ManualClock();
    const limiter = new PacingLimiter(
      { ...IB_PACING_LIMITS, maxRequests: 2, windowMs: 1_000, marginMs: 0 },
      clock.now,
    );
    limiter.record(request('a', 'A'));
    limiter.record(request('b', 'B'));
    expect(limiter.delayFor(request('c', 'C'))).toBe(1_000);
    clock.advance(1_000);
    expect(limiter.delayFor(request('c', 'C'))).toBe(0);
  });

  describe('starting from the requests an earlier run sent', () => {
    it('holds the next request back when the earlier run used up the ten-minute window', () => {
      const clock = new ManualClock();
      const earlier = new PacingLimiter(IB_PACING_LIMITS, clock.now);
      const records = Array.from({ length: 60 }, (_, i) => {
        const record = earlier.record(request(`r${i}`, `contract${i % 12}`));
        clock.advance(1_000);
        return record;
      });
      // Restarted right after the last, 60 s after the first: the first leaves the window in 540 s.
      const restarted = new PacingLimiter(IB_PACING_LIMITS, clock.now, records.reverse());
      expect(restarted.recentRequests).toBe(60);
      expect(restarted.delayFor(request('next', 'contract0'))).toBe(540_000 + 100);
      // Without them it would have sent at once.
      expect(new PacingLimiter(IB_PACING_LIMITS, clock.now).delayFor(request('next'))).toBe(0);
    });

    it('applies the identical-request and same-contract rules to the earlier run’s requests', () => {
      const clock = new ManualClock();
      const past = Array.from({ length: 5 }, (_, i) => ({
        at: clock.now() - 500 + i,
        identity: `r${i}`,
        contract: 'EURCAD',
        weight: 1,
      }));
      const limiter = new PacingLimiter(IB_PACING_LIMITS, clock.now, past);
      expect(limiter.delayFor(request('r0', 'USDJPY'))).toBe(15_000 - 500 + 100);
      expect(limiter.delayFor(request('new', 'EURCAD'))).toBe(2_000 - 500 + 100);
      expect(limiter.delayFor(request('new', 'USDJPY'))).toBe(0);
    });

    it('forgets records older than the longest window and counts the weight they were sent with', () => {
      const clock = new ManualClock();
      const limiter = new PacingLimiter({ ...IB_PACING_LIMITS, maxRequests: 3 }, clock.now, [
        { at: clock.now() - 600_100, identity: 'old', contract: 'X', weight: 1 },
        { at: clock.now() - 1_000, identity: 'a', contract: 'X', weight: 2 },
      ]);
      expect(limiter.recentRequests).toBe(2);
      expect(limiter.delayFor(request('b', 'Y'))).toBe(0);
      expect(limiter.delayFor({ identity: 'b', contract: 'Y', weight: 2 })).toBe(600_000 - 1_000 + 100);
    });

    it('returns what it counted, so the caller can store it as the next run’s past', () => {
      const clock = new ManualClock();
      const limiter = new PacingLimiter(IB_PACING_LIMITS, clock.now);
      clock.advance(42);
      const record = limiter.record({ identity: 'a', contract: 'X', weight: 2 });
      expect(record).toEqual({ at: clock.now(), identity: 'a', contract: 'X', weight: 2 });
      record.at = 0; // a copy: changing it does not change the limiter
      expect(limiter.delayFor(request('a', 'X'))).toBe(15_000 + 100);
    });
  });
});
