import type { TradingState } from '@ibstack/contracts';

import { effectiveTradingState, stricterState } from '../src/trading-state';

const state = (name: TradingState['state'], by = 'alice'): TradingState => ({
  v: 1,
  state: name,
  reason: `${name.toLowerCase()} for a test`,
  by,
  at: '2026-12-03T12:00:00.000Z',
});

describe('effective trading state', () => {
  it('is the state both copies agree on', () => {
    expect(effectiveTradingState(state('RUNNING'), state('RUNNING'))).toEqual(state('RUNNING'));
    expect(effectiveTradingState(state('REDUCING'), state('REDUCING')).state).toBe('REDUCING');
  });

  it('never reads a missing copy as RUNNING', () => {
    const natsLost = effectiveTradingState(null, state('RUNNING'));
    expect(natsLost.state).toBe('HALTED');
    expect(natsLost.reason).toContain('missing in NATS');
    const postgresLost = effectiveTradingState(state('RUNNING'), null);
    expect(postgresLost.state).toBe('HALTED');
    expect(postgresLost.reason).toContain('missing in Postgres');
    expect(effectiveTradingState(null, null).state).toBe('HALTED');
  });

  it.each([
    ['RUNNING', 'HALTED', 'HALTED'],
    ['HALTED', 'RUNNING', 'HALTED'],
    ['RUNNING', 'REDUCING', 'REDUCING'],
    ['REDUCING', 'HALTED', 'HALTED'],
  ] as const)(
    'takes the stricter when they disagree: NATS %s, Postgres %s → %s',
    (nats, postgres, expected) => {
      const effective = effectiveTradingState(state(nats, 'nats-writer'), state(postgres, 'pg-writer'));
      expect(effective.state).toBe(expected);
      expect(effective.reason).toContain(`NATS says ${nats}`);
      expect(effective.reason).toContain(`Postgres says ${postgres}`);
      expect(stricterState(nats, postgres)).toBe(expected);
    },
  );
});
