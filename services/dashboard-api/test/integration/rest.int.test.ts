/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- assertions on parsed JSON answers */
/**
 * Every REST endpoint over real HTTP against the real stack (gateway-sim, execution, Postgres, NATS),
 * and the 4xx paths: bad JSON, wrong fields, missing, expired and forged tokens, a viewer doing an
 * operator's action, a removed user, too many logins.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { KV_KEYS, TradingState } from '@ibstack/contracts';
import { eventually } from '@ibstack/test-kit';

import { TokenIssuer } from '../../src/auth/tokens';
import { UserStore } from '../../src/adapters/pg-users';
import { call, JWT_SECRET, PASSWORD, type Stack, startStack, untilTrading } from './harness';

/**
 * The document through @seriousme/openapi-schema-validator's own CLI (an ES module, which jest's CommonJS
 * runtime cannot load in process).
 */
async function validateOpenApi(document: unknown): Promise<{ valid: boolean; errors: unknown[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const cli = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');
    const stdout = await new Promise<string>((resolve) =>
      execFile(process.execPath, [cli, file], { timeout: 30_000 }, (_error, out) => resolve(out)),
    );
    const result = JSON.parse(stdout) as { valid: boolean; errors?: unknown };
    return {
      valid: result.valid,
      errors: Array.isArray(result.errors) ? result.errors : result.errors ? [result.errors] : [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let stack: Stack;
let operator: string;
let viewer: string;

beforeAll(async () => {
  stack = await startStack({ dashboardEnv: { LOGIN_RATE_LIMIT: '5' } });
  await stack.addUser('olga', 'operator');
  await stack.addUser('victor', 'viewer');
  operator = await stack.login('olga');
  viewer = await stack.login('victor');
  await untilTrading(stack);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const limitOrder = (overrides: Record<string, unknown> = {}) => ({
  instrument: 'EURCAD',
  side: 'BUY',
  quantity: '20000',
  orderType: 'LMT',
  limitPrice: '1.0001',
  ...overrides,
});

describe('auth', () => {
  it('issues a token in the body and an httpOnly, SameSite=Strict cookie that also authenticates', async () => {
    const response = await fetch(`${stack.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'victor', password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^ibstack_token=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const me = await call(stack.url, 'GET', '/api/auth/me', { headers: { cookie: cookie.split(';')[0]! } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'victor', role: 'viewer' });
  });

  it('refuses a wrong password and an unknown user alike, counting and auditing the failure', async () => {
    const wrong = await call(stack.url, 'POST', '/api/auth/login', {
      body: { username: 'olga', password: 'nope-nope-nope' },
    });
    const unknown = await call(stack.url, 'POST', '/api/auth/login', {
      body: { username: 'nobody', password: 'nope-nope-nope' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const olga = await new UserStore(stack.database.db).find('olga');
    expect(olga?.failedLogins).toBe(1);
    const audit = await call(stack.url, 'GET', '/api/audit?action=login_failed', { token: viewer });
    expect(audit.body.map((entry: { actor: string }) => entry.actor).sort()).toEqual(['nobody', 'olga']);
    expect(JSON.stringify(audit.body)).not.toContain('nope-nope-nope');
    // A successful login resets the count.
    operator = await stack.login('olga');
    expect((await new UserStore(stack.database.db).find('olga'))?.failedLogins).toBe(0);
  });

  it('answers 401 for a missing, expired, forged or malformed token and for a removed user', async () => {
    const missing = await call(stack.url, 'GET', '/api/positions');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthenticated');

    const past = new TokenIssuer(JWT_SECRET, 60, () => Date.now() - 3_600_000);
    const expired = await call(stack.url, 'GET', '/api/positions', {
      token: (await past.issue('olga', 'operator')).token,
    });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('token_expired');

    const forger = new TokenIssuer('another-secret-that-is-long-enough-0123456789', 60);
    const forged = await call(stack.url, 'GET', '/api/positions', {
      token: (await forger.issue('olga', 'operator')).token,
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('token_invalid');

    // A token claiming a role the user does not have (signed with the right key) is refused too.
    const honest = new TokenIssuer(JWT_SECRET, 60);
    const promoted = await call(stack.url, 'POST', '/api/trading/reconcile', {
      token: (await honest.issue('victor', 'operator')).token,
    });
    expect(promoted.status).toBe(401);

    const garbage = await call(stack.url, 'GET', '/api/positions', {
      headers: { authorization: 'Bearer not.a.jwt' },
    });
    expect(garbage.status).toBe(401);
    const basic = await call(stack.url, 'GET', '/api/positions', {
      headers: { authorization: 'Basic b2xnYTpwdw==' },
    });
    expect(basic.status).toBe(401);

    await stack.addUser('temp', 'viewer');
    const token = await stack.login('temp');
    expect((await call(stack.url, 'GET', '/api/positions', { token })).status).toBe(200);
    await new UserStore(stack.database.db).remove('temp');
    await eventually(
      async () => expect((await call(stack.url, 'GET', '/api/positions', { token })).status).toBe(401),
      {
        timeoutMs: 8_000,
        intervalMs: 250,
      },
    );
  });

  it('refuses an operator action to a viewer with 403', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/trading/halt', { reason: 'x' }],
      ['POST', '/api/trading/resume', { reason: 'x' }],
      ['POST', '/api/trading/reconcile', undefined],
      ['POST', '/api/orders', limitOrder()],
      ['DELETE', '/api/orders/1', undefined],
      ['PATCH', '/api/orders/1', { quantity: '1' }],
      ['POST', '/api/ibkr/connect', { reason: 'x' }],
      ['POST', '/api/ibkr/disconnect', { reason: 'x' }],
      ['POST', '/api/market-data/subscribe', { instrument: 'AAPL' }],
      ['DELETE', '/api/market-data/subscribe/AAPL', undefined],
    ] as const) {
      const response = await call(stack.url, method, path, {
        token: viewer,
        ...(body ? { body } : {}),
        headers: { 'idempotency-key': 'viewer-key-1' },
      });
      expect([path, response.status, response.body.error?.code]).toEqual([path, 403, 'forbidden']);
    }
  });

  it('refreshes a valid token and logs out by clearing the cookie', async () => {
    const refreshed = await call(stack.url, 'POST', '/api/auth/refresh', { token: viewer });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token).toEqual(expect.any(String));
    const out = await call(stack.url, 'POST', '/api/auth/logout', { token: viewer });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/ibstack_token=;/);
  });
});

describe('invalid requests', () => {
  it('names the problem and the field', async () => {
    const badJson = await call(stack.url, 'POST', '/api/trading/halt', {
      token: operator,
      rawBody: '{"reason": ',
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toEqual({ error: { code: 'invalid_json', message: 'the body is not valid JSON' } });

    const unknownField = await call(stack.url, 'POST', '/api/trading/halt', {
      token: operator,
      body: { reason: 'x', extra: 1 },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toMatchObject({ code: 'invalid_request', field: 'extra' });

    const wrongType = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder({ quantity: 12 }),
      headers: { 'idempotency-key': 'wrong-type-1' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.field).toBe('quantity');

    const noLimit = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder({ limitPrice: undefined }),
      headers: { 'idempotency-key': 'no-limit-1' },
    });
    expect(noLimit.body.error.field).toBe('limitPrice');

    const noKey = await call(stack.url, 'POST', '/api/orders', { token: operator, body: limitOrder() });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.field).toBe('idempotency-key');

    const arrayBody = await call(stack.url, 'POST', '/api/trading/halt', { token: operator, body: [1, 2] });
    expect(arrayBody.status).toBe(400);

    const badQuery = await call(stack.url, 'GET', '/api/orders?limit=abc', { token: viewer });
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.field).toBe('limit');

    const unknownQuery = await call(stack.url, 'GET', '/api/trades?colour=red', { token: viewer });
    expect(unknownQuery.body.error.field).toBe('colour');

    const badInstrument = await call(stack.url, 'GET', '/api/bars?instrument=eur.cad', { token: viewer });
    expect(badInstrument.body.error.field).toBe('instrument');

    const badRange = await call(
      stack.url,
      'GET',
      '/api/bars?instrument=EURCAD&from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z',
      { token: viewer },
    );
    expect(badRange.body.error.field).toBe('from');

    const badId = await call(stack.url, 'DELETE', '/api/orders/abc', { token: operator });
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toBe('id');

    const tooLarge = await call(stack.url, 'POST', '/api/trading/halt', {
      token: operator,
      body: { reason: 'x'.repeat(40_000) },
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('payload_too_large');

    const unknownRoute = await call(stack.url, 'GET', '/api/nothing', { token: viewer });
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.body.error.code).toBe('not_found');
  });

  it('rate-limits logins per user name', async () => {
    const attempts = [];
    for (let i = 0; i < 7; i++)
      attempts.push(
        (
          await call(stack.url, 'POST', '/api/auth/login', {
            body: { username: 'mallory', password: 'guess-guess' },
          })
        ).status,
      );
    expect(attempts.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(attempts.slice(5)).toEqual([429, 429]);
  });
});

describe('reads', () => {
  it('serves the probes, metrics and the OpenAPI document without a token', async () => {
    expect((await call(stack.url, 'GET', '/healthz')).status).toBe(200);
    expect((await call(stack.url, 'GET', '/readyz')).body).toEqual({
      ready: true,
      checks: { nats: true, postgres: true },
    });
    const health = await call(stack.url, 'GET', '/health');
    expect(health.body).toMatchObject({ status: 'ok', checks: { nats: true, postgres: true } });
    const metrics = await call(stack.url, 'GET', '/metrics');
    expect(metrics.body).toContain('dashboard_logins_total');
    const document = await call(stack.url, 'GET', '/api/openapi.json');
    expect(document.status).toBe(200);
    expect(document.body.openapi).toBe('3.1.0');
    const paths = Object.keys(document.body.paths);
    for (const path of [
      '/api/orders',
      '/api/orders/{id}',
      '/api/positions',
      '/api/bars',
      '/api/ibkr/status',
      '/api/market-data/subscribe/{id}',
    ])
      expect(paths).toContain(path);
    const post = document.body.paths['/api/orders'].post;
    expect(post.requestBody.content['application/json'].schema.properties.quantity).toBeDefined();
    expect(post.parameters.map((p: { name: string }) => p.name)).toContain('idempotency-key');

    // A real validator (the OpenAPI 3.1 JSON schema, $refs resolved) accepts the document, and refuses it
    // with a required field taken out: the check is real.
    const valid = await validateOpenApi(document.body);
    expect(valid.errors).toEqual([]);
    expect(valid.valid).toBe(true);
    const broken = await validateOpenApi({ ...document.body, info: undefined });
    expect(broken.valid).toBe(false);
  });

  it('answers every read endpoint with its shape', async () => {
    for (const path of [
      '/api/positions',
      '/api/account',
      '/api/trades',
      '/api/bars?instrument=EURCAD',
      '/api/pnl',
      '/api/reconciliations',
      '/api/audit',
      '/api/sleeves',
      '/api/orders?status=open',
    ]) {
      const response = await call(stack.url, 'GET', path, { token: viewer });
      expect([path, response.status]).toEqual([path, 200]);
    }
    const state = await call(stack.url, 'GET', '/api/trading-state', { token: viewer });
    expect(state.body.state).toBe('RUNNING');
    const reconciliations = await call(stack.url, 'GET', '/api/reconciliations', { token: viewer });
    // The first run is the start's; on a loaded machine a late lease renewal may add a run on re-taking it.
    expect(reconciliations.body.at(-1)).toMatchObject({ ok: true, trigger: 'start' });
    for (const run of reconciliations.body) {
      expect(run).toMatchObject({ ok: true, trigger: expect.stringMatching(/^(start|lease_acquired)$/) });
    }
    const account = await eventually(async () => {
      const response = await call(stack.url, 'GET', '/api/account', { token: viewer });
      expect(response.body.length).toBe(1);
      return response.body[0];
    });
    expect(account.account).toMatch(/^DU/);
    expect(account.netLiquidation).toMatch(/^\d+(\.\d+)?$/);
    const pnl = await call(stack.url, 'GET', '/api/pnl', { token: viewer });
    expect(pnl.body.length).toBeGreaterThan(0);
  });

  it('reports the gateway as the services see it, and tests it with a real handshake', async () => {
    const status = await eventually(async () => {
      const response = await call(stack.url, 'GET', '/api/ibkr/status', { token: viewer });
      expect(response.body).toMatchObject({ tradingMode: 'paper', state: 'connected' });
      return response.body;
    });
    expect(status.services.map((s: { service: string }) => s.service)).toContain('execution');
    expect(status.accounts[0]).toMatch(/^DU/);
    const test = await call(stack.url, 'POST', '/api/ibkr/test', { token: viewer });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ ok: true, clientId: 92, port: stack.sim!.port });
    expect(test.body.gatewayTime).toBeGreaterThan(1_700_000_000);
  });
});

describe('operator actions', () => {
  it('places a manual order once however often it is retried with its Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'order-retry-0001' };
    const first = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder(),
      headers,
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      state: 'recorded',
      order: { sleeve: 'operator', instrument: 'EURCAD', orderType: 'LMT' },
    });
    const retries = await Promise.all(
      [1, 2, 3].map(() =>
        call(stack.url, 'POST', '/api/orders', { token: operator, body: limitOrder(), headers }),
      ),
    );
    for (const retry of retries) {
      expect(retry.status).toBe(201);
      expect(retry.body.intentId).toBe(first.body.intentId);
      expect(retry.body.order.id).toBe(first.body.order.id);
    }
    const rows = await stack.database.db
      .selectFrom('orders')
      .selectAll()
      .where('intent_id', '=', first.body.intentId)
      .execute();
    expect(rows).toHaveLength(1);
    await eventually(() => {
      const open = stack.sim!.account.orders().filter((order) => order.orderRef === first.body.intentId);
      expect(open).toHaveLength(1);
    });
    const audit = await call(stack.url, 'GET', '/api/audit?action=manual_order', { token: viewer });
    expect(
      audit.body.filter(
        (entry: { detail: { intentId: string } }) => entry.detail.intentId === first.body.intentId,
      ),
    ).toHaveLength(1);
    expect(audit.body[0].actor).toBe('olga');

    const reused = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder({ quantity: '30000' }),
      headers,
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error.field).toBe('Idempotency-Key');
  });

  it('lets one of two different orders racing under one key through, and refuses the other', async () => {
    const headers = { 'idempotency-key': 'order-race-0001' };
    const bodies = [limitOrder({ limitPrice: '1.0004' }), limitOrder({ limitPrice: '1.0005' })];
    const answers = await Promise.all(
      bodies.map((body) => call(stack.url, 'POST', '/api/orders', { token: operator, body, headers })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([201, 409]);
    const winner = answers.find((answer) => answer.status === 201)!;
    const rows = await stack.database.db
      .selectFrom('orders')
      .select(['limit_price'])
      .where('intent_id', '=', winner.body.intentId)
      .execute();
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.limit_price)).toBe(Number(winner.body.order.limitPrice));
  });

  it('modifies and cancels a working order through execution', async () => {
    const placed = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder({ limitPrice: '1.0002' }),
      headers: { 'idempotency-key': 'order-cancel-0001' },
    });
    expect(placed.status).toBe(201);
    const id = placed.body.order.id as number;
    await eventually(async () => {
      const order = await call(stack.url, 'GET', `/api/orders?status=open&sleeve=operator`, {
        token: viewer,
      });
      expect(order.body.items.find((o: { id: number }) => o.id === id)?.status).toBe('submitted');
    });
    const modified = await call(stack.url, 'PATCH', `/api/orders/${id}`, {
      token: operator,
      body: { limitPrice: '1.0003' },
    });
    expect(modified.status).toBe(202);
    await eventually(async () => {
      const row = await stack.database.db
        .selectFrom('orders')
        .select('limit_price')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(Number(row.limit_price)).toBe(1.0003);
    });
    // A retry of the original request after the modify is still that request: the same order, now
    // modified, and never a second one. A different order under the key is still refused.
    const retried = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder({ limitPrice: '1.0002' }),
      headers: { 'idempotency-key': 'order-cancel-0001' },
    });
    expect(retried.status).toBe(201);
    expect(retried.body.order.id).toBe(id);
    expect(Number(retried.body.order.limitPrice)).toBe(1.0003);
    const reused = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder({ limitPrice: '1.0003' }),
      headers: { 'idempotency-key': 'order-cancel-0001' },
    });
    expect(reused.status).toBe(409);
    expect(
      await stack.database.db
        .selectFrom('orders')
        .select('id')
        .where('intent_id', '=', placed.body.intentId)
        .execute(),
    ).toHaveLength(1);
    const wrongField = await call(stack.url, 'PATCH', `/api/orders/${id}`, {
      token: operator,
      body: { stopPrice: '1.1' },
    });
    expect(wrongField.status).toBe(409);
    expect(wrongField.body.error.field).toBe('stopPrice');

    const cancelled = await call(stack.url, 'DELETE', `/api/orders/${id}`, { token: operator });
    expect(cancelled.status).toBe(202);
    await eventually(async () => {
      const row = await stack.database.db
        .selectFrom('orders')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('cancelled');
    });
    const again = await call(stack.url, 'DELETE', `/api/orders/${id}`, { token: operator });
    expect(again.status).toBe(409);
    expect((await call(stack.url, 'DELETE', '/api/orders/999999', { token: operator })).status).toBe(404);
    // The page follows an order to its end by its id, or by the intent id a POST answered.
    const one = await call(stack.url, 'GET', `/api/orders/${id}`, { token: viewer });
    expect(one.body).toMatchObject({ id, intentId: placed.body.intentId, status: 'cancelled' });
    const byIntent = await call(
      stack.url,
      'GET',
      `/api/orders?intentId=${encodeURIComponent(placed.body.intentId as string)}`,
      { token: viewer },
    );
    expect(byIntent.body.items.map((order: { id: number }) => order.id)).toEqual([id]);
    expect((await call(stack.url, 'GET', '/api/orders/999999', { token: viewer })).status).toBe(404);
    const audit = await call(stack.url, 'GET', '/api/audit?actor=olga&action=cancel_order', {
      token: viewer,
    });
    expect(audit.body.length).toBe(1);
  });

  it('refuses a market order when no price is known, and books one once a price is', async () => {
    const refused = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: { instrument: 'EURCAD', side: 'BUY', quantity: '10000' },
      headers: { 'idempotency-key': 'order-market-0001' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'refused', field: 'instrument' });
    const now = new Date();
    await stack.database.db
      .insertInto('bars')
      .values({
        instrument: 'EURCAD',
        timeframe: '1m',
        ts: new Date(now.getTime() - 60_000),
        open: '1.48',
        high: '1.49',
        low: '1.47',
        close: '1.48',
        volume: '0',
        source: 'test',
      })
      .execute();
    const filled = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: { instrument: 'EURCAD', side: 'BUY', quantity: '10000' },
      headers: { 'idempotency-key': 'order-market-0001' },
    });
    expect(filled.status).toBe(201);
    await eventually(async () => {
      const positions = await call(stack.url, 'GET', '/api/positions', { token: viewer });
      expect(positions.body.find((p: { instrument: string }) => p.instrument === 'EURCAD')?.quantity).toBe(
        '10000',
      );
      expect(positions.body[0].lastPrice).toBe('1.48');
    });
    await eventually(async () => {
      const trades = await call(stack.url, 'GET', '/api/trades?instrument=EURCAD', { token: viewer });
      expect(trades.body.length).toBeGreaterThan(0);
      expect(trades.body[0].sleeve).toBe('operator');
    });
    const sleeves = await call(stack.url, 'GET', '/api/sleeves', { token: viewer });
    expect(sleeves.body.find((s: { sleeve: string }) => s.sleeve === 'operator')?.position).toEqual({
      EURCAD: '10000',
    });
  });

  it('halts and resumes with the user named in the state and the audit log; a halted stack refuses orders', async () => {
    const halted = await call(stack.url, 'POST', '/api/trading/halt', {
      token: operator,
      body: { reason: 'lunch' },
    });
    expect(halted.status).toBe(200);
    expect(halted.body).toMatchObject({ state: 'HALTED', by: 'olga', reason: 'lunch', auditProblems: [] });
    const kv = await stack.testBus.bus.kv('trading', TradingState, { history: 10 });
    expect((await kv.get(KV_KEYS.tradingState))?.value.state).toBe('HALTED');
    await eventually(async () =>
      expect((await call(stack.url, 'GET', '/api/trading-state', { token: viewer })).body.state).toBe(
        'HALTED',
      ),
    );

    const refused = await call(stack.url, 'POST', '/api/orders', {
      token: operator,
      body: limitOrder({ limitPrice: '1.0004' }),
      headers: { 'idempotency-key': 'order-halted-0001' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(/HALTED|halted/);

    const resumed = await call(stack.url, 'POST', '/api/trading/resume', {
      token: operator,
      body: { reason: 'back' },
    });
    expect(resumed.body).toMatchObject({ state: 'RUNNING', by: 'olga' });
    const audit = await call(stack.url, 'GET', '/api/audit?actor=olga', { token: viewer });
    const actions = audit.body.map((entry: { action: string }) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['halt', 'resume']));
    expect(audit.body.find((entry: { action: string }) => entry.action === 'halt').detail).toMatchObject({
      reason: 'lunch',
      via: 'dashboard',
    });
  });

  it('asks execution to reconcile now', async () => {
    // Counted by trigger: execution may add runs of its own meanwhile (a lease re-taken under load).
    const operatorRuns = async (): Promise<number> => {
      const runs = await call(stack.url, 'GET', '/api/reconciliations', { token: viewer });
      return (runs.body as Array<{ trigger: string }>).filter((run) => run.trigger === 'operator').length;
    };
    const before = await operatorRuns();
    const requested = await call(stack.url, 'POST', '/api/trading/reconcile', { token: operator });
    expect(requested.status).toBe(202);
    await eventually(async () => expect(await operatorRuns()).toBe(before + 1));
  });
});
