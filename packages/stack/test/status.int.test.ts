/** `npm run status` reads the real tables and KV and says plainly what is going on, and what it cannot see. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

import { KV_KEYS, TradingState } from '@ibstack/contracts';
import {
  createTestBus,
  createTestDatabase,
  freePort,
  freePortRange,
  spawnTs,
  type TestBus,
  type TestDatabase,
  testEnvironment,
} from '@ibstack/test-kit';

import { renderStatus } from '../src/render';
import { gatherStatus } from '@ibstack/operator';

const NOW = Date.parse('2026-11-24T15:10:00.000Z');

describe('status', () => {
  let database: TestDatabase;
  let testBus: TestBus;

  beforeEach(async () => {
    [database, testBus] = await Promise.all([createTestDatabase(), createTestBus()]);
  });

  afterEach(async () => {
    await testBus.destroy();
    await database.drop();
  });

  async function seed(): Promise<void> {
    const { db } = database;
    const [order] = await db
      .insertInto('orders')
      .values({
        intent_id: 'a'.repeat(32),
        broker_order_id: 11,
        client_id: 10,
        account: 'DU1234567',
        sleeve: 'demo',
        instrument: 'EURCAD',
        side: 'BUY',
        quantity: '20000',
        order_type: 'MKT',
        time_in_force: 'DAY',
        status: 'filled',
        filled_quantity: '20000',
        remaining_quantity: '0',
        leader_epoch: 1,
      })
      .returning('id')
      .execute();
    await db
      .insertInto('executions')
      .values(
        ['01', '02', '03', '04', '05', '06'].map((n, i) => ({
          exec_id: `0000e0d5.6571a2b4.${n}.01`,
          order_id: order!.id,
          broker_order_id: 11,
          perm_id: 900,
          intent_id: 'a'.repeat(32),
          account: 'DU1234567',
          instrument: 'EURCAD',
          side: 'BUY',
          quantity: String(1000 * (i + 1)),
          price: '1.4801',
          executed_at: new Date(NOW - (10 - i) * 60_000),
          commission: i === 5 ? '2.1' : null,
        })),
      )
      .execute();
    await db
      .insertInto('positions')
      .values({ account: 'DU1234567', instrument: 'EURCAD', quantity: '21000', average_cost: '1.4801' })
      .execute();
    await db
      .insertInto('account_snapshots')
      .values({
        account: 'DU1234567',
        currency: 'USD',
        ts: new Date(NOW - 600_000),
        net_liquidation: '1000012.5',
        cash: '1000000',
        realized_pnl: '0',
        unrealized_pnl: '12.5',
        daily_pnl: '12.5',
        daily_return_pct: '0.00125',
        high_water_mark: '1000012.5',
        drawdown_pct: '0',
      })
      .execute();
    const kv = await testBus.bus.kv('trading', TradingState, { history: 10 });
    await kv.put(KV_KEYS.tradingState, {
      v: 1,
      state: 'HALTED',
      reason: 'reconciliation mismatch (1): position EURCAD',
      by: 'execution',
      at: new Date(NOW - 60_000).toISOString(),
    });
  }

  it('shows the trading state, the last fills newest first, positions and a stale account snapshot', async () => {
    await seed();
    const status = await gatherStatus({
      db: database.db,
      bus: testBus.bus,
      httpPortBase: await freePortRange(5),
      now: NOW,
    });
    expect(status.tradingState).toMatchObject({ state: 'HALTED', by: 'execution' });
    expect(status.recentFills.map((fill) => fill.quantity)).toEqual(['6000', '5000', '4000', '3000', '2000']);
    expect(status.recentFills[0]).toMatchObject({ sleeve: 'demo', commission: '2.1', price: '1.4801' });
    expect(status.positions).toEqual([expect.objectContaining({ instrument: 'EURCAD', quantity: '21000' })]);
    expect(status.services.map((service) => service.state)).toEqual(['down', 'down', 'down', 'down', 'down']);

    const text = stripVTControlCharacters(renderStatus(status));
    expect(text).toContain('HALTED');
    expect(text).toContain('reconciliation mismatch (1): position EURCAD');
    expect(text).toContain('execution is not ready: no order is placed');
    expect(text).toMatch(/demo\s+EURCAD\s+BUY\s+6000\s+@ 1\.4801/);
    expect(text).toMatch(/\(600 s ago: stale\)/);
  });

  it('says what it cannot see when Postgres and NATS are both unreachable', async () => {
    const status = await gatherStatus({
      db: null,
      bus: null,
      httpPortBase: await freePortRange(5),
      now: NOW,
    });
    expect(status.problems).toEqual([
      'trading state, lease and prices unknown without NATS',
      'orders, positions, P&L and reconciliation unknown without Postgres',
    ]);
    expect(renderStatus(status)).toContain('Could not see');
  });

  it('reads each service where STATUS_SERVICES says, as `make status` runs it inside a container', async () => {
    // A stand-in for a service on its own host: ready, connected to the gateway.
    const execution: Server = createServer((request, response) => {
      if (request.url === '/readyz') response.end(JSON.stringify({ checks: { nats: true } }));
      else if (request.url === '/metrics') response.end('ib_connection_up 1\n');
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => execution.listen(0, '127.0.0.1', resolve));
    try {
      const executionUrl = `http://127.0.0.1:${(execution.address() as AddressInfo).port}`;
      const gone = `http://127.0.0.1:${await freePort()}`;
      const cli = spawnTs(join(__dirname, '..', 'src', 'cli', 'ibstack.ts'), ['status', '--json'], {
        DATABASE_URL: database.url,
        NATS_URL: testEnvironment().natsUrl,
        BUS_NAMESPACE: testBus.namespace,
        // gateway-sim as under the ibga profile: no such host in the network.
        STATUS_SERVICES: `execution=${executionUrl}, ingestor=${gone}/, gateway-sim=http://gateway-sim.invalid:9400`,
      });
      const { code } = await cli.exited;
      expect(code).toBe(0);
      const status = JSON.parse(cli.lines.join('\n')) as { services: Array<Record<string, unknown>> };
      expect(status.services).toEqual([
        expect.objectContaining({
          name: 'execution',
          url: executionUrl,
          state: 'ready',
          gatewayConnected: true,
        }),
        expect.objectContaining({ name: 'ingestor', url: gone, state: 'down', detail: 'ECONNREFUSED' }),
        expect.objectContaining({
          name: 'gateway-sim',
          state: 'down',
          detail: 'not running here (no such host)',
        }),
      ]);
    } finally {
      await new Promise<void>((resolve) => execution.close(() => resolve()));
    }
  }, 30_000);

  it('names a malformed STATUS_SERVICES and exits with the configuration-error code', async () => {
    const cli = spawnTs(join(__dirname, '..', 'src', 'cli', 'ibstack.ts'), ['status'], {
      DATABASE_URL: database.url,
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: testBus.namespace,
      STATUS_SERVICES: 'execution:9403',
    });
    const { code } = await cli.exited;
    expect(code).toBe(78);
  }, 30_000);
});
