import {
  type CashAmount,
  type CashBaseline,
  compareCash,
  type ExecutionTotals,
  executionsCashEffect,
} from '../../src/domain/cash';

const INSTRUMENTS = {
  EURCAD: { secType: 'CASH', symbol: 'EUR', currency: 'CAD' },
  AAPL: { secType: 'STK', symbol: 'AAPL', currency: 'USD' },
} as const;
const instrumentOf = (key: string) => INSTRUMENTS[key as keyof typeof INSTRUMENTS];
const tolerance = { default: '1', byCurrency: { JPY: '100' } };

const trade = (overrides: Partial<ExecutionTotals>): ExecutionTotals => ({
  account: 'DU1',
  instrument: 'EURCAD',
  side: 'BUY',
  quantity: '0',
  notional: '0',
  ...overrides,
});
const cash = (currency: string, amount: string, account = 'DU1'): CashAmount => ({
  account,
  currency,
  amount,
});
const baseline = (currency: string, brokerCash: string, executionsEffect: string): CashBaseline => ({
  account: 'DU1',
  currency,
  brokerCash,
  executionsEffect,
});

describe('cash effect of executions', () => {
  it('moves the quote currency by the notional, the base currency of a pair by the quantity, and the commission', () => {
    const { effects, unknown } = executionsCashEffect(
      [
        trade({ side: 'BUY', quantity: '20000', notional: '29600.2' }),
        trade({ side: 'SELL', quantity: '5000', notional: '7401' }),
        trade({ instrument: 'AAPL', side: 'BUY', quantity: '10', notional: '2000.5' }),
      ],
      [cash('USD', '4.5')],
      instrumentOf,
    );
    expect(unknown.size).toBe(0);
    expect(Object.fromEntries(effects.map((row) => [row.currency, row.amount]))).toEqual({
      CAD: '-22199.2',
      EUR: '15000',
      USD: '-2005',
    });
  });

  it('names the accounts with an instrument it does not know', () => {
    const { unknown } = executionsCashEffect([trade({ instrument: 'XYZ' })], [], instrumentOf);
    expect(unknown).toEqual(new Map([['DU1', ['XYZ']]]));
  });
});

describe('cash reconciliation', () => {
  const scenarios: Array<{
    name: string;
    broker: CashAmount[];
    effects: CashAmount[];
    baselines: CashBaseline[];
    mismatches: string[];
    withoutBaseline?: string[];
  }> = [
    {
      name: 'first run: no baseline, nothing compared, one to record',
      broker: [cash('USD', '1000000')],
      effects: [],
      baselines: [],
      mismatches: [],
      withoutBaseline: ['DU1'],
    },
    {
      name: 'fills since the baseline explain the change',
      broker: [cash('USD', '999998'), cash('CAD', '-29600.2'), cash('EUR', '20000')],
      effects: [cash('USD', '-2'), cash('CAD', '-29600.2'), cash('EUR', '20000')],
      baselines: [baseline('USD', '1000000', '0')],
      mismatches: [],
    },
    {
      name: 'only the change since the baseline counts, not the executions before it',
      broker: [cash('USD', '1000490')],
      effects: [cash('USD', '-510')],
      baselines: [baseline('USD', '1000500', '-500')],
      mismatches: [],
    },
    {
      name: 'a fee the stack did not pay is a mismatch in its currency',
      broker: [cash('USD', '999750'), cash('CAD', '-29600.2')],
      effects: [cash('CAD', '-29600.2')],
      baselines: [baseline('USD', '1000000', '0')],
      mismatches: ['USD 999750 vs 1000000'],
    },
    {
      name: 'a difference within the tolerance (the broker rounds to cents) is none',
      broker: [cash('USD', '999999.00'), cash('JPY', '99')],
      effects: [cash('USD', '-0.004')],
      baselines: [baseline('USD', '1000000', '0')],
      mismatches: [],
    },
    {
      name: 'a currency gone at the broker that our executions say is held',
      broker: [cash('USD', '1000000')],
      effects: [cash('EUR', '20000')],
      baselines: [baseline('USD', '1000000', '0')],
      mismatches: ['EUR 0 vs 20000'],
    },
  ];

  it.each(scenarios)('$name', ({ broker, effects, baselines, mismatches, withoutBaseline = [] }) => {
    const result = compareCash({ broker, effects, baselines, tolerance });
    expect(
      result.mismatches.map(({ mismatch }) => {
        const [currency] = mismatch.broker!.split(' ').slice(1);
        return `${currency} ${mismatch.broker!.split(' ')[0]} vs ${mismatch.local!.split(' ')[0]}`;
      }),
    ).toEqual(mismatches);
    expect(result.withoutBaseline).toEqual(withoutBaseline);
    for (const { mismatch } of result.mismatches) expect(mismatch.kind).toBe('cash_balance');
  });

  it('explains the mismatch in words', () => {
    const at = new Date('2026-11-24T15:00:00.000Z');
    const [entry] = compareCash({
      broker: [cash('USD', '999750')],
      effects: [cash('USD', '-2')],
      baselines: [{ ...baseline('USD', '1000000', '0'), recordedAt: at }],
      tolerance,
    }).mismatches;
    expect(entry).toEqual({
      account: 'DU1',
      mismatch: {
        kind: 'cash_balance',
        local: '999998 USD',
        broker: '999750 USD',
        detail:
          'USD cash of DU1 is 999750 at the broker; the baseline of 2026-11-24T15:00:00.000Z (1000000) and our executions since (-2) explain 999998: off by -248, over the tolerance of 1',
      },
    });
  });

  it('leaves accounts that cannot be compared now, and those the broker reports no cash for', () => {
    const result = compareCash({
      broker: [cash('USD', '1', 'DU1')],
      effects: [cash('USD', '-5', 'DU1'), cash('USD', '-5', 'DU2')],
      baselines: [baseline('USD', '1000000', '0')],
      tolerance,
      skip: new Map([['DU1', 'a commission is still on its way']]),
    });
    expect(result).toEqual({ mismatches: [], withoutBaseline: [], current: [] });
  });

  it('gives what a baseline taken now holds, every currency of the account', () => {
    expect(
      compareCash({
        broker: [cash('USD', '999998'), cash('EUR', '20000')],
        effects: [cash('USD', '-2'), cash('CAD', '-29600')],
        baselines: [],
        tolerance,
      }).current,
    ).toEqual([
      { account: 'DU1', currency: 'CAD', brokerCash: '0', executionsEffect: '-29600' },
      { account: 'DU1', currency: 'EUR', brokerCash: '20000', executionsEffect: '0' },
      { account: 'DU1', currency: 'USD', brokerCash: '999998', executionsEffect: '-2' },
    ]);
  });
});
