import { createTestDatabase, type TestDatabase } from '@ibstack/test-kit';

import { ExecutionStore, type NewOrder } from '../../src/adapters/pg-store';
import { FencedError } from '../../src/errors';

const order = (intentId: string, brokerOrderId: number): NewOrder => ({
  intentId,
  brokerOrderId,
  clientId: 10,
  account: 'DU1234567',
  sleeve: 'demo',
  instrument: 'EURCAD',
  side: 'BUY',
  quantity: '20000',
  orderType: 'MKT',
  limitPrice: null,
  stopPrice: null,
  timeInForce: 'DAY',
  status: 'pending',
});

describe('fencing', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('refuses an order written under an older epoch once a newer holder claimed the fence', async () => {
    const store = new ExecutionStore(database.db);
    await store.claimFence(3, 'old');
    await store.recordOrder(order('a'.repeat(32), 1), 3, new Date());
    await store.claimFence(7, 'new');
    await expect(store.recordOrder(order('b'.repeat(32), 2), 3, new Date())).rejects.toBeInstanceOf(
      FencedError,
    );
    await expect(store.claimFence(5, 'old')).rejects.toBeInstanceOf(FencedError);
    const { created } = await store.recordOrder(order('c'.repeat(32), 3), 7, new Date());
    expect(created).toBe(true);
    const rows = await database.db.selectFrom('orders').select('intent_id').execute();
    expect(rows.map((row) => row.intent_id)).toEqual(['a'.repeat(32), 'c'.repeat(32)]);
  });

  it('records an order once per intent id', async () => {
    const store = new ExecutionStore(database.db);
    const first = await store.recordOrder(order('d'.repeat(32), 10), 7, new Date());
    const again = await store.recordOrder(order('d'.repeat(32), 11), 7, new Date());
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, order: { broker_order_id: 10 } });
  });
});
