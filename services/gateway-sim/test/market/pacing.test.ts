import { ManualClock } from '@ibstack/test-kit';

import { HistoricalPacing, type PacingRequest } from '../../src/market/pacing';

const request = (
  identity: string,
  series = 'EURCAD:IDEALPRO:MIDPOINT',
  weight: 1 | 2 = 1,
): PacingRequest => ({
  identity,
  series,
  weight,
});

describe('historical data pacing', () => {
  it('refuses an identical request within 15 seconds and admits it after', () => {
    const clock = new ManualClock();
    const pacing = new HistoricalPacing(clock.now);
    expect(pacing.admit(request('a'))).toEqual({ ok: true });
    clock.advance(14_000);
    expect(pacing.admit(request('a'))).toEqual({ ok: false, rule: 'identical' });
    clock.advance(1_001);
    expect(pacing.admit(request('a'))).toEqual({ ok: true });
  });

  it('refuses the sixth request for one contract, exchange and tick type within two seconds', () => {
    const clock = new ManualClock();
    const pacing = new HistoricalPacing(clock.now);
    for (let i = 0; i < 5; i++) expect(pacing.admit(request(`r${i}`))).toEqual({ ok: true });
    expect(pacing.admit(request('r5'))).toEqual({ ok: false, rule: 'same-series' });
    expect(pacing.admit(request('other', 'EURUSD:IDEALPRO:MIDPOINT'))).toEqual({ ok: true });
    clock.advance(2_001);
    expect(pacing.admit(request('r6'))).toEqual({ ok: true });
  });

  it('counts BID_ASK twice', () => {
    const clock = new ManualClock();
    const pacing = new HistoricalPacing(clock.now);
    expect(pacing.admit(request('a', 's', 2))).toEqual({ ok: true });
    expect(pacing.admit(request('b', 's', 2))).toEqual({ ok: true });
    expect(pacing.admit(request('c', 's', 2))).toEqual({ ok: false, rule: 'same-series' });
  });

  it('refuses the 61st request within ten minutes and admits again when the oldest ages out', () => {
    const clock = new ManualClock();
    const pacing = new HistoricalPacing(clock.now);
    for (let i = 0; i < 60; i++) {
      expect(pacing.admit(request(`r${i}`, `series-${i}`))).toEqual({ ok: true });
      clock.advance(5_000);
    }
    expect(pacing.admit(request('r60', 'series-60'))).toEqual({ ok: false, rule: 'ten-minutes' });
    clock.advance(600_000 - 60 * 5_000 + 1);
    expect(pacing.admit(request('r61', 'series-61'))).toEqual({ ok: true });
  });
});
