import { executionTime } from '../../src/adapters/ib-broker';

describe('IB execution times', () => {
  it.each([
    ['20261124-15:04:05', 'UTC', '2026-11-24T15:04:05.000Z'],
    ['20261124 15:04:05', 'UTC', '2026-11-24T15:04:05.000Z'],
    ['20261124  15:04:05', 'UTC', '2026-11-24T15:04:05.000Z'],
    ['20261124 10:04:05 US/Eastern', 'UTC', '2026-11-24T15:04:05.000Z'],
    ['20260701 11:04:05 America/New_York', 'UTC', '2026-07-01T15:04:05.000Z'],
    ['20261124 10:04:05', 'America/New_York', '2026-11-24T15:04:05.000Z'],
    ['20261124 15:04:05 Nowhere/Land', 'UTC', '2026-11-24T15:04:05.000Z'],
    ['1795532645', 'UTC', '2026-11-24T15:04:05.000Z'],
  ])('reads %s (gateway zone %s) as %s', (text, zone, iso) => {
    expect(new Date(executionTime(text, zone)).toISOString()).toBe(iso);
  });

  it('gives NaN for something it cannot read', () => {
    expect(executionTime('yesterday', 'UTC')).toBeNaN();
    expect(executionTime(undefined, 'UTC')).toBeNaN();
  });
});
