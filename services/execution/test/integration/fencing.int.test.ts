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

  it('refuses an order written under an older epoch once a newer holder took the fence', async () => {
    const store = new ExecutionStore(database.db);
    const old = await store.fence.take('old');
    await store.orders.recordOrder(order('a'.repeat(32), 1), old, new Date());
    const newer = await store.fence.take('new');
    expect(newer).toBeGreaterThan(old);
    expect(await store.fence.holds(old)).toBe(false);
    expect(await store.fence.holds(newer)).toBe(true);
    await expect(store.orders.recordOrder(order('b'.repeat(32), 2), old, new Date())).rejects.toBeInstanceOf(
      FencedError,
    );
    const { created } = await store.orders.recordOrder(order('c'.repeat(32), 3), newer, new Date());
    expect(created).toBe(true);
    const rows = await database.db.selectFrom('orders').select('intent_id').execute();
    expect(rows.map((row) => row.intent_id)).toEqual(['a'.repeat(32), 'c'.repeat(32)]);
  });

  it('records an order once per intent id', async () => {
    const store = new ExecutionStore(database.db);
    const epoch = await store.fence.take('new');
    const first = await store.orders.recordOrder(order('d'.repeat(32), 10), epoch, new Date());
    const again = await store.orders.recordOrder(order('d'.repeat(32), 11), epoch, new Date());
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, order: { broker_order_id: 10 } });
  });
});
