/** The CLI's halt must work when Postgres is down, and say loudly that its audit row is missing. */
import { join } from 'node:path';

import { KV_KEYS, TradingState } from '@ibstack/contracts';
import { createTestBus, freePort, spawnTs, type TestBus, testEnvironment } from '@ibstack/test-kit';

const CLI = join(__dirname, '..', 'src', 'cli', 'ibstack.ts');

describe('ibstack halt', () => {
  let testBus: TestBus;

  beforeEach(async () => {
    testBus = await createTestBus();
  });

  afterEach(async () => {
    await testBus.destroy();
  });

  it('halts through NATS while Postgres is unreachable, and warns that the audit row is missing', async () => {
    const cli = spawnTs(CLI, ['halt', 'broker outage'], {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/ibstack`,
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: testBus.namespace,
      IBSTACK_OPERATOR: 'alice',
    });
    const { code } = await cli.exited;
    expect(cli.lines.join('\n')).toContain('trading is HALTED: broker outage (by alice)');
    expect(code).toBe(2);
    const kv = await testBus.bus.kv('trading', TradingState, { history: 10 });
    expect((await kv.get(KV_KEYS.tradingState))?.value).toMatchObject({
      state: 'HALTED',
      reason: 'broker outage',
      by: 'alice',
    });
  }, 30_000);
});
