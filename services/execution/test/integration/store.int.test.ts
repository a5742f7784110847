/**
 * The execution store against a real Postgres: fills stored once, and IB's execution corrections (same
 * exec-id base, higher revision) counted once whichever order the revisions arrive in.
 */
import { createTestDatabase, type TestDatabase } from '@ibstack/test-kit';

import { ExecutionStore, type StoredExecution } from '../../src/adapters/pg-store';

function execution(execId: string, overrides: Partial<StoredExecution> = {}): StoredExecution {
  return {
    execId,
    orderId: null,
    brokerOrderId: 7,
    permId: 1007,
    intentId: null,
    account: 'DU1234567',
    instrument: 'EURCAD',
    side: 'BUY',
    quantity: '10000',
    price: '1.5',
    cumulativeQuantity: '10000',
    averagePrice: '1.5',
    executedAt: new Date('2026-11-24T15:00:00Z'),
    ...overrides,
  };
}

describe('ExecutionStore with corrected executions', () => {
  let database: TestDatabase;
  let store: ExecutionStore;

  beforeEach(async () => {
    database = await createTestDatabase();
    store = new ExecutionStore(database.db);
  });

  afterEach(async () => {
    await database.drop();
  });

  async function positionQuantity(): Promise<string | undefined> {
    const row = await database.db
      .selectFrom('positions')
      .select('quantity')
      .where('instrument', '=', 'EURCAD')
      .executeTakeFirst();
    return row?.quantity;
  }

  async function counting(): Promise<string[]> {
    const rows = await database.db
      .selectFrom('executions')
      .select('exec_id')
      .where('superseded_by', 'is', null)
      .execute();
    return rows.map((row) => row.exec_id);
  }

  it('stores a repeated execution once and moves the position once', async () => {
    expect(await store.executions.recordExecution(execution('0001f4e8.65a1.01.01'))).toEqual({
      inserted: true,
    });
    expect(await store.executions.recordExecution(execution('0001f4e8.65a1.01.01'))).toEqual({
      inserted: false,
    });
    expect(await positionQuantity()).toBe('10000');
  });

  it('counts only the correction when it arrives after the original', async () => {
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.01'));
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.02', { quantity: '8000' }));
    expect(await counting()).toEqual(['0001f4e8.65a1.01.02']);
    expect(await positionQuantity()).toBe('8000');
  });

  it('counts only the correction when the original arrives after it (a late replay)', async () => {
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.02', { quantity: '8000' }));
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.01'));
    expect(await counting()).toEqual(['0001f4e8.65a1.01.02']);
    expect(await positionQuantity()).toBe('8000');
  });

  it('keeps fills of other exec-id groups out of a correction', async () => {
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.01'));
    await store.executions.recordExecution(
      execution('0001f4e8.65a2.01.01', {
        quantity: '5000',
        executedAt: new Date('2026-11-24T15:01:00Z'),
      }),
    );
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.03', { quantity: '2000' }));
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.02', { quantity: '9000' }));
    expect((await counting()).sort()).toEqual(['0001f4e8.65a1.01.03', '0001f4e8.65a2.01.01']);
    expect(await positionQuantity()).toBe('7000');
    // Every revision stays listed as known, so the broker's own list of them is not reported as missing.
    const known = await store.executions.executionIdsSince(new Date('2026-11-24T00:00:00Z'));
    expect([...known].sort()).toEqual([
      '0001f4e8.65a1.01.01',
      '0001f4e8.65a1.01.02',
      '0001f4e8.65a1.01.03',
      '0001f4e8.65a2.01.01',
    ]);
  });

  it('reports an execution no intent explains once, then not after it is flagged', async () => {
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.01'));
    const first = await store.reconciliation.unexplainedTrades();
    expect(first.executions.map((row) => row.execId)).toEqual(['0001f4e8.65a1.01.01']);
    await store.reconciliation.flagUnexplained([], ['0001f4e8.65a1.01.01'], new Date());
    expect((await store.reconciliation.unexplainedTrades()).executions).toEqual([]);
  });

  it('joins a commission report to its execution whichever arrives first', async () => {
    const report = (execId: string) => ({ execId, commission: '2.5', currency: 'USD', realizedPnl: null });
    await store.executions.recordExecution(execution('0001f4e8.65a1.01.01'));
    expect(await store.executions.recordCommission(report('0001f4e8.65a1.01.01'))).toBe(true);
    expect(await store.executions.recordCommission(report('0001f4e8.65a2.01.01'))).toBe(false);
    await store.executions.recordExecution(execution('0001f4e8.65a2.01.01'));
    const rows = await database.db
      .selectFrom('executions')
      .select(['exec_id', 'commission', 'commission_currency'])
      .orderBy('exec_id')
      .execute();
    expect(rows).toEqual([
      { exec_id: '0001f4e8.65a1.01.01', commission: '2.5', commission_currency: 'USD' },
      { exec_id: '0001f4e8.65a2.01.01', commission: '2.5', commission_currency: 'USD' },
    ]);
  });
});
