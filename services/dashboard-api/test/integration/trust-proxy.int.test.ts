/**
 * Behind the reverse proxy every request reaches dashboard-api from the proxy's address; the client is in
 * X-Forwarded-For, which only the peers in TRUST_PROXY may set. Proven with the failed-login limit per
 * address, which must count each client on its own behind a trusted proxy, and must not let anyone else
 * pick an address by sending the header.
 */
import { loadConfig } from '@ibstack/config';

import { dashboardEnv } from '../../src/config';
import { call, JWT_SECRET, type Stack, startStack } from './harness';

async function failedLogin(stack: Stack, client: string, attempt: number): Promise<number> {
  // A new user name each time, so only the per-address limit can answer 429.
  const reply = await call(stack.url, 'POST', '/api/auth/login', {
    headers: { 'x-forwarded-for': client },
    body: { username: `nobody-${client}-${attempt}`, password: 'wrong-password' },
  });
  return reply.status;
}

describe('TRUST_PROXY', () => {
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  /** The per-address allowance of failed logins: five times LOGIN_RATE_LIMIT (1 here) in 15 minutes. */
  const ALLOWED = 5;

  async function exhaust(client: string): Promise<number[]> {
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= ALLOWED; attempt++)
      statuses.push(await failedLogin(stack!, client, attempt));
    return statuses;
  }

  it('counts each client behind a trusted proxy by its forwarded address', async () => {
    // The test connects from 127.0.0.1, as nginx does on the same host: the default trusts loopback.
    stack = await startStack({ trading: false, dashboardEnv: { LOGIN_RATE_LIMIT: '1' } });
    expect(await exhaust('203.0.113.7')).toEqual(Array(ALLOWED).fill(401));
    expect(await failedLogin(stack, '203.0.113.7', ALLOWED + 1)).toBe(429);
    // Another client behind the same proxy is not locked out by the first one.
    expect(await failedLogin(stack, '198.51.100.9', 1)).toBe(401);
  });

  it('ignores X-Forwarded-For from a peer it does not trust', async () => {
    // Only a proxy in 10.0.0.0/8 is trusted: this peer (loopback) is the client, whatever it claims.
    stack = await startStack({
      trading: false,
      dashboardEnv: { LOGIN_RATE_LIMIT: '1', TRUST_PROXY: '10.0.0.0/8' },
    });
    expect(await exhaust('203.0.113.7')).toEqual(Array(ALLOWED).fill(401));
    expect(await failedLogin(stack, '198.51.100.9', 1)).toBe(429);
  });

  it('refuses an entry that is not a network, naming it', () => {
    expect(() =>
      loadConfig('dashboard-api', dashboardEnv, { JWT_SECRET, TRUST_PROXY: 'loopback, proxy.example.com' }),
    ).toThrow(/TRUST_PROXY: "proxy\.example\.com" is not loopback, linklocal, uniquelocal/);
    expect(
      loadConfig('dashboard-api', dashboardEnv, { JWT_SECRET, TRUST_PROXY: 'loopback, 172.16.0.0/12, ::1' })
        .TRUST_PROXY,
    ).toBe('loopback,172.16.0.0/12,::1');
  });
});
