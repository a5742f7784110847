/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment -- assertions on parsed JSON answers */
/**
 * Run-time commands through the dashboard to the services that carry them out, over NATS: the ingestor
 * adds an instrument (refusing an unknown contract with IB's own answer) and removes it; execution and
 * ingestor drop their gateway sessions on disconnect and come back on connect. All audited by name.
 */
import { eventually } from '@ibstack/test-kit';

import { call, type Stack, startStack, untilTrading } from './harness';
import { TestSocket } from './ws-client';

let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({ ingestor: true, dashboardEnv: { CONTROL_REPLY_TIMEOUT_MS: '8000' } });
  await stack.addUser('ops', 'operator');
  token = await stack.login('ops');
  await untilTrading(stack);
}, 90_000);

afterAll(async () => {
  await stack?.close();
});

const gatewayStates = async () => {
  const status = await call(stack.url, 'GET', '/api/ibkr/status', { token });
  return Object.fromEntries(
    status.body.services.map((s: { service: string; state: string }) => [s.service, s.state]),
  );
};

describe('market data at run time', () => {
  it('subscribes an instrument at the ingestor, whose quotes then reach the WebSocket, and removes it', async () => {
    const socket = await TestSocket.open(stack.url);
    try {
      await socket.authenticate(token);
      await socket.subscribe(['quotes:USDJPY']);
      const added = await call(stack.url, 'POST', '/api/market-data/subscribe', {
        token,
        body: { instrument: 'USD.JPY' },
      });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({
        command: 'market_data_subscribe',
        outcome: expect.stringContaining('USD.JPY subscribed'),
      });
      const quote = await socket.next((frame) => frame.channel === 'quotes:USDJPY', 20_000);
      expect(quote.payload).toMatchObject({ instrument: 'USDJPY' });
      const instrument = await stack.database.db
        .selectFrom('instruments')
        .select('instrument')
        .where('instrument', '=', 'USDJPY')
        .executeTakeFirst();
      expect(instrument).toBeDefined();

      const removed = await call(stack.url, 'DELETE', '/api/market-data/subscribe/USDJPY', { token });
      expect(removed.status).toBe(200);
      expect(removed.body.outcome).toMatch(/unsubscribed/);
      const again = await call(stack.url, 'DELETE', '/api/market-data/subscribe/USDJPY', { token });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toMatch(/not ingested/);
    } finally {
      socket.close();
    }
  }, 60_000);

  it('refuses an unknown contract with IB’s answer', async () => {
    const refused = await call(stack.url, 'POST', '/api/market-data/subscribe', {
      token,
      body: { instrument: 'XYZ.QQQ' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'refused', field: 'instrument' });
    expect(refused.body.error.message).toMatch(/IB 200/);
    const malformed = await call(stack.url, 'POST', '/api/market-data/subscribe', {
      token,
      body: { instrument: '!!' },
    });
    expect(malformed.status).toBe(400);
  });
});

describe('gateway sessions', () => {
  it('drops both sessions on disconnect and brings them back on connect, audited', async () => {
    const dropped = await call(stack.url, 'POST', '/api/ibkr/disconnect', {
      token,
      body: { reason: 'maintenance' },
    });
    expect(dropped.status).toBe(202);
    expect(dropped.body.outcome).toMatch(/execution: gateway session dropped/);
    expect(dropped.body.outcome).toMatch(/ingestor: gateway session dropped/);
    await eventually(
      async () =>
        expect(await gatewayStates()).toEqual({ execution: 'disconnected', ingestor: 'disconnected' }),
      {
        timeoutMs: 15_000,
      },
    );
    expect(stack.sim!.clients().filter((client) => client.clientId === 10 || client.clientId === 20)).toEqual(
      [],
    );

    const back = await call(stack.url, 'POST', '/api/ibkr/connect', { token, body: { reason: 'done' } });
    expect(back.status).toBe(202);
    await eventually(
      async () => expect(await gatewayStates()).toEqual({ execution: 'connected', ingestor: 'connected' }),
      {
        timeoutMs: 20_000,
      },
    );
    const audit = await call(stack.url, 'GET', '/api/audit?actor=ops', { token });
    expect(audit.body.map((entry: { action: string }) => entry.action)).toEqual(
      expect.arrayContaining([
        'gateway_disconnect',
        'gateway_connect',
        'market_data_subscribe',
        'market_data_unsubscribe',
      ]),
    );
  }, 60_000);
});
