/* eslint-disable @typescript-eslint/no-unsafe-assignment -- jest matchers in expected objects */
/**
 * The WebSocket against the real Postgres and NATS: the authenticate handshake and its timeout, bad
 * tokens, channels and their snapshots, the heartbeat, and a slow client dropped without slowing the
 * others.
 */
import { topics } from '@ibstack/contracts';
import { eventually, makeTick } from '@ibstack/test-kit';

import type { ClientOptions } from 'ws';

import { TokenIssuer } from '../../src/auth/tokens';
import { call, JWT_SECRET, type Stack, startStack } from './harness';
import { TestSocket } from './ws-client';

let stack: Stack;
let token: string;
let operatorToken: string;
const sockets: TestSocket[] = [];

async function open(options: ClientOptions = {}) {
  const socket = await TestSocket.open(stack.url, options);
  sockets.push(socket);
  return socket;
}

beforeAll(async () => {
  stack = await startStack({
    trading: false,
    dashboardEnv: { WS_AUTH_TIMEOUT_MS: '400', WS_HEARTBEAT_INTERVAL: '300', WS_MAX_BUFFERED_BYTES: '65536' },
  });
  await stack.addUser('vera', 'viewer');
  await stack.addUser('otto', 'operator');
  token = await stack.login('vera');
  operatorToken = await stack.login('otto');
}, 60_000);

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

afterAll(async () => {
  await stack?.close();
});

describe('WebSocket authentication', () => {
  it('closes a client that does not authenticate in time with 4408', async () => {
    const socket = await open();
    expect(await socket.closed).toBe(4408);
    expect(socket.frames[0]).toMatchObject({ type: 'error', payload: { code: 'authentication_timeout' } });
  });

  it('closes on a forged, expired or missing token and on anything sent before authenticating', async () => {
    const forged = await open();
    forged.send({
      type: 'authenticate',
      payload: { token: (await new TokenIssuer('x'.repeat(40), 60).issue('vera', 'viewer')).token },
    });
    expect(await forged.closed).toBe(4401);
    expect(forged.frames[0]).toMatchObject({ type: 'error', payload: { code: 'token_invalid' } });

    const expired = await open();
    const past = new TokenIssuer(JWT_SECRET, 60, () => Date.now() - 3_600_000);
    expired.send({ type: 'authenticate', payload: { token: (await past.issue('vera', 'viewer')).token } });
    expect(await expired.closed).toBe(4401);
    expect(expired.frames[0]).toMatchObject({ payload: { code: 'token_expired' } });

    const missing = await open();
    missing.send({ type: 'authenticate', payload: {} });
    expect(await missing.closed).toBe(4401);

    const early = await open();
    early.send({ type: 'subscribe', payload: { channels: ['orders'] } });
    expect(await early.closed).toBe(4401);

    const garbage = await open();
    garbage.send('not json');
    expect(await garbage.closed).toBe(4401);
  });

  it('accepts a token in the message, or the page’s cookie from the upgrade request', async () => {
    const withToken = await open();
    await withToken.authenticate(token);
    const withCookie = await open({ headers: { cookie: `ibstack_token=${token}` } });
    await withCookie.authenticate();
    expect(withCookie.frames[0]).toMatchObject({
      type: 'authenticated',
      payload: { username: 'vera', role: 'viewer' },
    });
  });

  it('refuses an upgrade from a foreign origin', async () => {
    await expect(TestSocket.open(stack.url, { headers: { origin: 'https://evil.example' } })).rejects.toThrow(
      /403/,
    );
  });
});

describe('WebSocket channels', () => {
  it('delivers quotes of the subscribed instrument only, and stops after unsubscribe', async () => {
    const socket = await open();
    await socket.authenticate(token);
    await socket.subscribe(['quotes:EURCAD']);
    await stack.testBus.bus.publish(
      topics.tick,
      makeTick({ instrument: 'USDJPY', ts: new Date().toISOString() }),
    );
    await stack.testBus.bus.publish(
      topics.tick,
      makeTick({ instrument: 'EURCAD', bid: '1.48100', ts: new Date().toISOString() }),
    );
    const quote = await socket.next((frame) => frame.channel === 'quotes:EURCAD');
    expect(quote.payload).toMatchObject({ instrument: 'EURCAD', bid: '1.48100' });
    expect(socket.frames.some((frame) => frame.channel === 'quotes:USDJPY')).toBe(false);

    socket.send({ type: 'unsubscribe', payload: { channels: ['quotes:EURCAD'] } });
    await socket.next((frame) => frame.type === 'unsubscribed');
    await socket.subscribe(['quotes:GBPUSD']);
    await stack.testBus.bus.publish(
      topics.tick,
      makeTick({ instrument: 'EURCAD', bid: '1.48000', ts: new Date().toISOString() }),
    );
    // A later quote on the other channel proves the EURCAD one had its chance to arrive.
    await stack.testBus.bus.publish(
      topics.tick,
      makeTick({ instrument: 'GBPUSD', ts: new Date().toISOString() }),
    );
    await socket.next((frame) => frame.channel === 'quotes:GBPUSD');
    expect(socket.events('quotes:EURCAD')).toHaveLength(1);
  });

  it('sends the trading state at once and every change after, and names unknown channels', async () => {
    const socket = await open();
    await socket.authenticate(token);
    socket.send({
      type: 'subscribe',
      payload: { channels: ['trading_state', 'gateway', 'positions', 'nonsense', 'quotes:eurcad'] },
    });
    const subscribed = await socket.next((frame) => frame.type === 'subscribed');
    expect(subscribed.payload).toEqual({ channels: ['trading_state', 'gateway', 'positions'] });
    const unknown = await socket.next((frame) => frame.type === 'error');
    expect(unknown.payload).toMatchObject({
      code: 'unknown_channel',
      message: 'unknown channels: nonsense, quotes:eurcad',
    });
    await socket.next((frame) => frame.channel === 'positions' && frame.snapshot === true);
    await socket.next((frame) => frame.channel === 'gateway' && frame.snapshot === true);

    await call(stack.url, 'POST', '/api/trading/halt', { token: operatorToken, body: { reason: 'ws test' } });
    const halted = await socket.next(
      (frame) => frame.channel === 'trading_state' && (frame.payload as { state: string }).state === 'HALTED',
    );
    expect(halted.payload).toMatchObject({ by: 'otto', reason: 'ws test' });
    await call(stack.url, 'POST', '/api/trading/resume', {
      token: operatorToken,
      body: { reason: 'ws test done' },
    });
    await socket.next(
      (frame) =>
        frame.channel === 'trading_state' && (frame.payload as { state: string }).state === 'RUNNING',
    );
  });

  it('answers a bad frame after authentication with an error and keeps the connection', async () => {
    const socket = await open();
    await socket.authenticate(token);
    socket.send({ type: 'subscribe', payload: { channels: 'orders' } });
    const error = await socket.next((frame) => frame.type === 'error');
    expect(error.payload).toMatchObject({
      code: 'invalid_message',
      message: expect.stringContaining('payload.channels'),
    });
    socket.send({ type: 'ping' });
    await socket.next((frame) => frame.type === 'pong');
    expect(socket.closeCode).toBeNull();
  });
});

describe('WebSocket liveness', () => {
  it('drops a client that stops answering pings', async () => {
    const silent = await open({ autoPong: false });
    await silent.authenticate(token);
    const healthy = await open();
    await healthy.authenticate(token);
    expect(await silent.closed).toBe(1006);
    expect(healthy.closeCode).toBeNull();
  });

  it('drops a client that does not read when its buffer fills, while the others get every message', async () => {
    // A stack of its own with a slow heartbeat: here the buffer, not a missed pong, must be what drops it.
    const own = await startStack({
      trading: false,
      dashboardEnv: { WS_HEARTBEAT_INTERVAL: '600000', WS_MAX_BUFFERED_BYTES: '65536' },
    });
    try {
      await own.addUser('vera', 'viewer');
      await slowClientScenario(own, await own.login('vera'));
    } finally {
      await own.close();
    }
  }, 60_000);
});

async function slowClientScenario(stack: Stack, token: string): Promise<void> {
  const slow = await TestSocket.open(stack.url);
  sockets.push(slow);
  await slow.authenticate(token);
  await slow.subscribe(['quotes:EURCAD']);
  const fast = await TestSocket.open(stack.url);
  sockets.push(fast);
  await fast.authenticate(token);
  await fast.subscribe(['quotes:EURCAD']);
  // The slow client stops reading its socket for good (ws itself would resume it once its parser is
  // drained): what the server sends piles up in the kernel's buffers, then in the server's.
  const socket = (slow.ws as unknown as { _socket: { pause(): void; resume: () => void } })._socket;
  socket.pause();
  socket.resume = () => undefined;

  const subject = stack.testBus.bus.namespace.subject('md.tick.EURCAD');
  let sent = 0;
  // A paused client never sees its own close, so the server's count is the evidence.
  const droppedSlow = async () =>
    /dashboard_websocket_dropped_total\{[^}]*reason="slow"[^}]*\} 1\b/.test(
      (await call(stack.url, 'GET', '/metrics')).body as string,
    );
  // Core NATS straight to the dashboard's subscription: fast enough to outrun a socket.
  for (let batch = 0; batch < 200 && !(await droppedSlow()); batch++) {
    for (let i = 0; i < 500; i++) {
      sent++;
      const tick = makeTick({ ts: new Date().toISOString(), bid: `1.${String(sent).padStart(6, '0')}` });
      stack.testBus.bus.nc.publish(subject, JSON.stringify(tick));
    }
    await stack.testBus.bus.nc.flush();
  }
  expect(await droppedSlow()).toBe(true);
  await eventually(() => expect(fast.events('quotes:EURCAD')).toHaveLength(sent), { timeoutMs: 20_000 });
  expect(fast.closeCode).toBeNull();
}
