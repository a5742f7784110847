/**
 * DurableTradingState against a real NATS: a copy that cannot be read makes the state in force HALTED
 * (fail closed), and the reason says why it could not be read, so a refused order names the cause (a
 * NATS timeout in the failover drill), not only a missing copy.
 */
import { KV_KEYS, type TradingState } from '@ibstack/contracts';
import { tradingStateKv } from '@ibstack/bus';
import { createTestBus, type TestBus } from '@ibstack/test-kit';

import { DurableTradingState } from '../src/trading-state';

const running: TradingState = {
  v: 1,
  state: 'RUNNING',
  reason: 'resumed for a test',
  by: 'test',
  at: '2026-12-04T08:00:00.000Z',
};

describe('durable trading state: a copy that cannot be read', () => {
  let testBus: TestBus;
  beforeEach(async () => {
    testBus = await createTestBus();
  });
  afterEach(async () => {
    await testBus.destroy();
  });

  it('reads HALTED when Postgres cannot be reached, and says so', async () => {
    await (await tradingStateKv(testBus.bus)).put(KV_KEYS.tradingState, running);
    const reading = await new DurableTradingState({ bus: testBus.bus, db: null }).read();
    expect(reading.nats?.value).toEqual(running);
    expect(reading.postgres).toBeNull();
    expect(reading.problems).toEqual(['Postgres: Postgres is not reachable']);
    expect(reading.effective.state).toBe('HALTED');
    expect(reading.effective.reason).toContain('missing in Postgres');
    expect(reading.effective.reason).toContain('(Postgres: Postgres is not reachable)');
  });

  it('reads HALTED when neither copy can be read, naming both causes', async () => {
    const other = await createTestBus({ namespace: testBus.namespace, name: 'closed' });
    await other.bus.close();
    const reading = await new DurableTradingState({ bus: other.bus, db: null }).read();
    expect(reading.effective.state).toBe('HALTED');
    expect(reading.problems).toHaveLength(2);
    expect(reading.effective.reason).toMatch(
      /\(NATS: .+; Postgres: Postgres is not reachable\)|\(Postgres: Postgres is not reachable; NATS: .+\)/,
    );
  });
});
