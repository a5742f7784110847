/**
 * Random requests and WebSocket frames against a running dashboard: thousands of them, generated from a
 * seeded generator so a failure can be replayed. No answer may be a 5xx, every error must have our
 * shape, nothing may leak a stack trace or an internal detail, and the service must still answer
 * normally afterwards.
 */
import WebSocket from 'ws';

import { call, type Stack, startStack } from './harness';

let stack: Stack;
let viewer: string;
let operator: string;

beforeAll(async () => {
  stack = await startStack({
    trading: false,
    dashboardEnv: {
      RATE_LIMIT_PER_MINUTE: '100000',
      USER_RATE_LIMIT_PER_MINUTE: '100000',
      CONTROL_REPLY_TIMEOUT_MS: '100',
    },
  });
  await stack.addUser('fuzzy', 'viewer');
  await stack.addUser('fuzzop', 'operator');
  viewer = await stack.login('fuzzy');
  operator = await stack.login('fuzzop');
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

/** Mulberry32: small, seeded, good enough to pick cases. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const PATHS = [
  '/api/orders',
  '/api/orders/1',
  '/api/orders/-1',
  '/api/orders/abc',
  '/api/orders/99999999999999999999',
  '/api/positions',
  '/api/account',
  '/api/trades',
  '/api/bars',
  '/api/pnl',
  '/api/reconciliations',
  '/api/audit',
  '/api/sleeves',
  '/api/trading-state',
  '/api/trading/halt',
  '/api/trading/resume',
  '/api/trading/reconcile',
  '/api/ibkr/status',
  '/api/ibkr/connect',
  '/api/market-data/subscribe',
  '/api/market-data/subscribe/EURCAD',
  '/api/market-data/subscribe/%00',
  '/api/auth/login',
  '/api/auth/me',
  '/api/openapi.json',
  '/api/%E0%A4%A',
  '/health',
  '/ws',
  '/../../etc/passwd',
  '/index.html',
];
const METHODS = ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS', 'HEAD'];
const VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  '1.5',
  '-0',
  '',
  'x'.repeat(300),
  '1e5',
  'NaN',
  '<script>',
  '__proto__',
  [],
  {},
  { $gt: '' },
  '0.0000000001',
  'EURCAD',
  'LMT',
  'BUY',
];
const FIELDS = [
  'instrument',
  'side',
  'quantity',
  'orderType',
  'limitPrice',
  'stopPrice',
  'timeInForce',
  'reason',
  'username',
  'password',
  '__proto__',
  'constructor',
];
const QUERY = [
  'limit',
  'offset',
  'before',
  'from',
  'to',
  'instrument',
  'timeframe',
  'status',
  'points',
  'sleeve',
];

function randomBody(g: ReturnType<typeof generator>): string | undefined {
  const kind = g.next();
  if (kind < 0.1) return undefined;
  if (kind < 0.2) return g.pick(['{', '[1,2', '"text"', 'null', '\u0000', '{"a":'.repeat(50), '1']);
  const body: Record<string, unknown> = {};
  const count = Math.floor(g.next() * 6);
  for (let i = 0; i < count; i++) body[g.pick(FIELDS)] = g.pick(VALUES);
  return JSON.stringify(body);
}

function randomQuery(g: ReturnType<typeof generator>): string {
  const count = Math.floor(g.next() * 4);
  const parts = [];
  for (let i = 0; i < count; i++)
    parts.push(`${g.pick(QUERY)}=${encodeURIComponent(String(g.pick(VALUES)))}`);
  if (g.next() < 0.05) parts.push('limit=1&limit=2');
  return parts.length ? `?${parts.join('&')}` : '';
}

const LEAKS =
  /at \w+ \(|node_modules|\/work\/|postgres:\/\/|password_hash|argon2id|SELECT |syntax error|TypeError|ReferenceError/i;

describe('fuzz', () => {
  it('answers thousands of random requests without a 5xx, in our error shape, leaking nothing', async () => {
    const g = generator(20261203);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 3_000; i++) {
      const method = g.pick(METHODS);
      const path = `${g.pick(PATHS)}${randomQuery(g)}`;
      const token = g.pick([viewer, operator, undefined, 'garbage', `${viewer}x`]);
      const body = method === 'GET' || method === 'HEAD' ? undefined : randomBody(g);
      const headers: Record<string, string> = {};
      if (g.next() < 0.5)
        headers['idempotency-key'] = g.pick(['k', 'fuzz-key-0001', 'x'.repeat(200), 'fuzz key with spaces']);
      if (g.next() < 0.2)
        headers['content-type'] = g.pick([
          'text/plain',
          'application/json; charset=utf-16',
          'multipart/form-data',
        ]);
      const response = await call(stack.url, method, path, {
        ...(token ? { token } : {}),
        ...(body !== undefined ? { rawBody: body } : {}),
        headers,
      });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const text = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
      const where = `${method} ${path} ${body ?? ''} → ${response.status} ${text.slice(0, 200)}`;
      expect([where, response.status < 500 || response.status === 504]).toEqual([where, true]);
      if (response.status >= 400 && method !== 'HEAD' && path.startsWith('/api')) {
        expect([where, typeof (response.body as { error?: { code?: unknown } }).error?.code]).toEqual([
          where,
          'string',
        ]);
      }
      // JSON answers only: the page itself is HTML that names its own form fields.
      if (typeof response.body !== 'string' && !path.startsWith('/api/openapi.json'))
        expect([where, LEAKS.test(text)]).toEqual([where, false]);
    }
    // The run went through every kind of answer, not only 401s.
    expect([...statuses.keys()].filter((status) => status >= 200 && status < 300).length).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(100);
    expect(statuses.get(401)).toBeGreaterThan(100);
    expect(statuses.get(404)).toBeGreaterThan(10);
    const health = await call(stack.url, 'GET', '/health');
    expect(health.status).toBe(200);
  }, 240_000);

  it('survives thousands of random WebSocket frames and keeps serving', async () => {
    const g = generator(7);
    const frames = [
      () => 'not json',
      () => '{"type":',
      () =>
        JSON.stringify({
          type: g.pick(['authenticate', 'subscribe', 'unsubscribe', 'ping', 'other', 1, null]),
          payload: g.pick(VALUES),
        }),
      () =>
        JSON.stringify({
          type: 'subscribe',
          payload: {
            channels: [
              g.pick(['quotes:EURCAD', 'bars:EURCAD:1m', 'quotes:', 'bars:X:2m', '*', 'orders']),
              g.pick(VALUES),
            ],
          },
        }),
      () =>
        JSON.stringify({
          type: 'authenticate',
          payload: { token: g.pick([viewer, 'garbage', '', 'x'.repeat(5_000)]) },
        }),
      () => Buffer.from([0, 1, 2, 255]),
      () => 'x'.repeat(10_000),
      () => JSON.stringify({ type: 'ping', extra: true }),
      () => JSON.stringify([1, 2, 3]),
    ];
    let closedByServer = 0;
    for (let connection = 0; connection < 60; connection++) {
      const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ws`);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.on('error', () => undefined);
      if (g.next() < 0.5) ws.send(JSON.stringify({ type: 'authenticate', payload: { token: viewer } }));
      for (let i = 0; i < 60 && ws.readyState === WebSocket.OPEN; i++) ws.send(g.pick(frames)());
      // A frame the server must answer proves it processed everything before it (or closed us).
      ws.send(JSON.stringify({ type: 'ping' }));
      const answered = await Promise.race([
        new Promise<boolean>((resolve) =>
          ws.on('message', (data: Buffer) => String(data).includes('"pong"') && resolve(true)),
        ),
        closed.then(() => false),
      ]);
      if (!answered) closedByServer++;
      ws.terminate();
    }
    // Unauthenticated garbage and oversized frames close the socket; that is the answer, not a crash.
    expect(closedByServer).toBeGreaterThan(0);
    // Still serving: a clean client authenticates and subscribes.
    const ws = new WebSocket(`${stack.url.replace('http', 'ws')}/ws`);
    const answers: string[] = [];
    ws.on('message', (data: Buffer) => answers.push(String(data)));
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    ws.send(JSON.stringify({ type: 'authenticate', payload: { token: viewer } }));
    ws.send(JSON.stringify({ type: 'subscribe', payload: { channels: ['orders'] } }));
    const deadline = Date.now() + 5_000;
    while (!answers.some((answer) => answer.includes('"subscribed"')) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answers.some((answer) => answer.includes('"subscribed"'))).toBe(true);
    ws.terminate();
    expect((await call(stack.url, 'GET', '/health')).status).toBe(200);
  }, 120_000);
});
