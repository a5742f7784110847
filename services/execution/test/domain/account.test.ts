import { accountFigures, brokerExecutionsSince, tradingDayStart } from '../../src/domain/account';
import { ErrorCircuit } from '../../src/domain/error-circuit';

describe('account figures', () => {
  it('derives daily P&L, return, high-water mark and drawdown', () => {
    expect(
      accountFigures({
        netLiquidation: '990000',
        dayOpeningNetLiquidation: '1000000',
        previousHighWaterMark: '1100000',
      }),
    ).toEqual({
      netLiquidation: '990000',
      dailyPnl: '-10000',
      dailyReturnPct: '-1',
      highWaterMark: '1100000',
      drawdownPct: '10',
    });
  });

  it('raises the high-water mark on a new high and has no drawdown there', () => {
    expect(
      accountFigures({
        netLiquidation: '1200000',
        dayOpeningNetLiquidation: null,
        previousHighWaterMark: '1100000',
      }),
    ).toMatchObject({
      highWaterMark: '1200000',
      drawdownPct: '0',
      dailyPnl: '0',
    });
  });

  it('starts the trading day at 17:00 New York, in winter and in summer', () => {
    expect(new Date(tradingDayStart(Date.parse('2026-11-24T15:00:00Z'))).toISOString()).toBe(
      '2026-11-23T22:00:00.000Z',
    );
    expect(new Date(tradingDayStart(Date.parse('2026-11-24T23:00:00Z'))).toISOString()).toBe(
      '2026-11-24T22:00:00.000Z',
    );
    expect(new Date(tradingDayStart(Date.parse('2026-07-01T12:00:00Z'))).toISOString()).toBe(
      '2026-06-30T21:00:00.000Z',
    );
  });
});

describe("the window of IB's executions", () => {
  it.each([
    // [now, gateway zone, window start, why]
    ['2026-11-24T23:30:00Z', 'America/New_York', '2026-11-24T22:00:00.000Z', '18:30 New York: since 17:00'],
    [
      '2026-11-25T05:30:00Z',
      'America/New_York',
      '2026-11-25T05:00:00.000Z',
      '00:30 New York: since midnight',
    ],
    [
      '2026-11-25T15:00:00Z',
      'America/New_York',
      '2026-11-25T05:00:00.000Z',
      '10:00 New York: since midnight',
    ],
    ['2026-11-24T23:30:00Z', 'UTC', '2026-11-24T22:00:00.000Z', '23:30 UTC: 17:00 New York is later'],
    ['2026-11-25T00:30:00Z', 'UTC', '2026-11-25T00:00:00.000Z', '00:30 UTC: since midnight UTC'],
    ['2026-07-01T04:30:00Z', 'America/New_York', '2026-07-01T04:00:00.000Z', 'summer: 00:30 EDT'],
    ['2026-07-01T03:30:00Z', 'America/New_York', '2026-06-30T21:00:00.000Z', 'summer: 23:30 EDT'],
    ['2026-11-25T01:00:00Z', 'Europe/Zurich', '2026-11-24T23:00:00.000Z', 'Zurich: its own midnight'],
  ])('at %s with the gateway in %s starts at %s (%s)', (now, zone, start) => {
    expect(new Date(brokerExecutionsSince(Date.parse(now), zone)).toISOString()).toBe(start);
  });
});

describe('error circuit', () => {
  it('trips on the error after the limit within the window and stays tripped', () => {
    let now = 0;
    const circuit = new ErrorCircuit(3, 60_000, () => now);
    expect([circuit.record(), circuit.record(), circuit.record()]).toEqual([false, false, false]);
    now = 10_000;
    expect(circuit.record()).toBe(true);
    now = 1_000_000;
    expect(circuit.tripped).toBe(true);
    expect(circuit.record()).toBe(false);
    circuit.reset();
    expect(circuit.tripped).toBe(false);
  });

  it('forgets errors older than the window', () => {
    let now = 0;
    const circuit = new ErrorCircuit(2, 1_000, () => now);
    circuit.record();
    circuit.record();
    now = 1_500;
    expect(circuit.record()).toBe(false);
    expect(circuit.recentErrors).toBe(1);
  });
});
