/**
 * The simulated account: snapshots with execution's figures, worked out from what was observed at the step
 * (so one handed over later is the one an immediate snapshot would have been), and a floating-point
 * drawdown level that answers only when it is clear of the thresholds.
 */
import { Broker, formatMoney, InstrumentTable, MarketSchedule } from '@ibstack/gateway-sim';
import { accountFigures } from '@ibstack/risk';

import { BarQuotes } from '../src/bar-quotes';
import { accountValue, SimAccount } from '../src/sim-account';

const LIMITS = { drawdownWarnPct: '5', drawdownReducePct: '10' };
const START = Date.parse('2026-11-03T12:00:00Z');

function simulated() {
  let now = START;
  // No positions: the account is its USD cash, and a cash adjustment moves NAV by exactly that much.
  const broker = new Broker({
    account: 'DU0TEST',
    initialCash: 100_000,
    seed: 0,
    transmitMode: 'strict',
    instruments: new InstrumentTable(),
    book: new BarQuotes({ CAD: '0.72' }),
    schedule: new MarketSchedule('always-open'),
    now: () => now,
  });
  return {
    broker,
    account: new SimAccount(broker, 'DU0TEST'),
    at: (minutes: number) => (now = START + minutes * 60_000),
  };
}

describe('SimAccount', () => {
  it('keeps an account value as the sim reports it to the cent, read back as a decimal string', () => {
    // Cents, half cents, float noise, signs, zero and negative zero, and the magnitudes where a double's
    // step passes a cent and then exceeds a unit.
    const values = [0, -0, 0.005, -0.005, 0.015, 1000.5, 97_499.504_999, 1e6 + 0.125, -2_500.5, 0.1 + 0.2];
    for (const magnitude of [1e13, 1e14, 1e15, 1e16, 1e17, 1e21, 1e22])
      values.push(magnitude + 0.37, -magnitude);
    // A fixed-seed walk over many scales.
    let seed = 42;
    for (let index = 0; index < 20_000; index++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      values.push((seed / 2 ** 31 - 0.5) * 10 ** (index % 16));
    }
    for (const value of values) expect(accountValue(value)).toBe(String(Number(formatMoney(value))));
  });

  it('snapshots with execution’s account figures, from what was observed at the step', () => {
    const { broker, account, at } = simulated();
    account.observe(at(0));
    broker.adjustCash('USD', -2_500.5);
    expect(account.observe(at(1))).toBeCloseTo(97_499.5, 6);
    // The account moves on after the step; the snapshot is still the step's.
    broker.adjustCash('USD', -10_000);
    const snapshot = account.snapshot();
    expect(snapshot).toMatchObject({
      ...accountFigures({
        netLiquidation: '97499.5',
        dayOpeningNetLiquidation: '100000',
        previousHighWaterMark: '100000',
      }),
      cash: '97499.5',
      ts: new Date(START + 60_000).toISOString(),
    });
    expect(snapshot.drawdownPct).toBe('2.5005');
  });

  it('tells the drawdown level in floating point only when it is clear of the thresholds', () => {
    const { broker, account, at } = simulated();
    account.observe(at(0));
    expect(account.drawdownLevel(LIMITS)).toBe('normal');
    broker.adjustCash('USD', -4_000);
    account.observe(at(1));
    expect(account.drawdownLevel(LIMITS)).toBe('normal');
    // Exactly at the warning threshold: the decimal figures decide.
    broker.adjustCash('USD', -1_000);
    account.observe(at(2));
    expect(account.drawdownLevel(LIMITS)).toBeUndefined();
    expect(account.snapshot().drawdownPct).toBe('5');
    broker.adjustCash('USD', -0.5);
    account.observe(at(3));
    expect(account.drawdownLevel(LIMITS)).toBe('warning');
    broker.adjustCash('USD', -6_000);
    account.observe(at(4));
    expect(account.drawdownLevel(LIMITS)).toBe('reducing');
  });
});
