/**
 * An order recorded but killed before it left (crash after the database write): on restart, recovery
 * sends it under its own id only if it would be sent now. Trading halted in between → it never leaves.
 */
import { eventually, type SpawnedProcess } from '@ibstack/test-kit';

import type {} from '../../src/service';
import {
  type Harness,
  intent,
  publishIntent,
  reconciliationRuns,
  setTradingState,
  startProcess,
  inProcessScenario,
} from './harness';

async function orderAfterCrash(harness: Harness): Promise<void> {
  const child: SpawnedProcess = await startProcess(harness, { IBSTACK_CRASH_AT: 'after_db_write:1' });
  try {
    await reconciliationRuns(harness, 1);
    await publishIntent(harness.bus, intent());
    await child.exited;
  } finally {
    await child.kill('SIGKILL');
  }
  const [order] = await harness.database.db.selectFrom('orders').selectAll().execute();
  expect(order?.status).toBe('pending');
  expect(harness.sim.account.orders()).toHaveLength(0);
}

describe('recovery of an order recorded but never sent', () => {
  const scenario = inProcessScenario();

  it('sends it under its own id when trading is still RUNNING', async () => {
    const harness = await scenario.startHarness();
    await orderAfterCrash(harness);
    await scenario.startService();
    await eventually(async () => {
      const [order] = await harness.database.db.selectFrom('orders').selectAll().execute();
      expect(order?.status).toBe('filled');
    });
    const [order] = await harness.database.db.selectFrom('orders').selectAll().execute();
    expect(harness.sim.account.orders()).toEqual([
      expect.objectContaining({ orderId: order!.broker_order_id, orderRef: order!.intent_id }),
    ]);
  }, 90_000);

  it.each([
    ['HALTED', /not sent after recovery: risk: trading_halted: trading is HALTED/],
    ['REDUCING', /not sent after recovery: risk: reducing_only: trading is REDUCING .* would not shrink/],
  ] as const)(
    'does not send it once trading went %s while the process was down, and marks it inactive',
    async (state, refusal) => {
      const harness = await scenario.startHarness();
      await orderAfterCrash(harness);
      await setTradingState(harness, state);
      await scenario.startService();
      await reconciliationRuns(harness, 2);
      const [order] = await harness.database.db.selectFrom('orders').selectAll().execute();
      expect(order?.status).toBe('inactive');
      expect(order?.error_text).toMatch(refusal);
      expect(harness.sim.account.orders()).toHaveLength(0);
    },
    90_000,
  );
});
