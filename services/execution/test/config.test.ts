import { executionEnv, executionChecks } from '../src/config';

describe('execution configuration', () => {
  it('reads POSITION_TOLERANCE as one decimal or per instrument, and names a bad entry', () => {
    expect(executionEnv.parse({ POSITION_TOLERANCE: '0.5' }).POSITION_TOLERANCE).toEqual({
      default: '0.5',
      byInstrument: {},
    });
    expect(executionEnv.parse({ POSITION_TOLERANCE: 'EUR.CAD=1000, AAPL=0,*=2' }).POSITION_TOLERANCE).toEqual(
      {
        default: '2',
        byInstrument: { EURCAD: '1000', AAPL: '0' },
      },
    );
    const bad = executionEnv.safeParse({ POSITION_TOLERANCE: 'EURCAD=lots' });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(
      /POSITION_TOLERANCE.*EURCAD=lots|EURCAD=lots.*POSITION_TOLERANCE/,
    );
  });

  it('refuses a clean-age limit that is not longer than the reconciliation interval', () => {
    const problems = executionChecks.flatMap((check) =>
      check({ RECONCILE_INTERVAL_MS: '300000', RECONCILE_MAX_CLEAN_AGE_MS: '300000' }),
    );
    expect(problems.join(' ')).toMatch(/RECONCILE_MAX_CLEAN_AGE_MS/);
  });

  it('reads the cash tolerance as one figure or per currency, and names a bad entry', () => {
    const base = { DATABASE_URL: 'postgres://x@localhost/db' };
    expect(executionEnv.parse(base).RECONCILE_CASH_TOLERANCE).toEqual({ default: '1', byCurrency: {} });
    expect(
      executionEnv.parse({ ...base, RECONCILE_CASH_TOLERANCE: 'USD=5, JPY=500, *=0.5' })
        .RECONCILE_CASH_TOLERANCE,
    ).toEqual({ default: '0.5', byCurrency: { USD: '5', JPY: '500' } });
    const bad = executionEnv.safeParse({ ...base, RECONCILE_CASH_TOLERANCE: 'usd=5' });
    expect(bad.error!.issues[0]).toMatchObject({
      path: ['RECONCILE_CASH_TOLERANCE'],
      message: expect.stringMatching(/"usd=5" must be <currency>=<non-negative decimal>/) as unknown,
    });
  });

  it('refuses an account age limit that is not longer than the snapshot interval', () => {
    const problems = executionChecks.flatMap((check) =>
      check({ ACCOUNT_SNAPSHOT_INTERVAL_MS: '10000', ACCOUNT_MAX_AGE_MS: '10000' }),
    );
    expect(problems.join(' ')).toMatch(
      /ACCOUNT_MAX_AGE_MS \(10000\) must be longer than ACCOUNT_SNAPSHOT_INTERVAL_MS/,
    );
    expect(executionChecks.flatMap((check) => check({}))).toEqual([]);
  });
});
