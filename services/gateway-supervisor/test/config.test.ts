/**
 * Bad settings stop the gateway supervisor before it starts anything: each named, exit 78 (EX_CONFIG).
 * Among them an IBGA log line mapped to a state the supervisor does not know.
 */
import { join } from 'node:path';

import { ConfigError, loadConfig } from '@ibstack/config';
import { freePort, spawnTs } from '@ibstack/test-kit';

import { gatewaySupervisorChecks, gatewaySupervisorEnv, logPatternsOf } from '../src';

const load = (env: Record<string, string>) =>
  loadConfig('gateway-supervisor', gatewaySupervisorEnv, env, { checks: gatewaySupervisorChecks });

function refusal(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('gateway supervisor settings', () => {
  it('accepts the defaults, and extra IBGA log lines before the built-in ones', () => {
    expect(load({})).toMatchObject({ IB_CLIENT_ID: 90, PROBE_CLIENT_ID: 91, SERVER_REGION: 'north_america' });
    const config = load({
      GATEWAY_LOG_PATTERNS_JSON:
        '[{"contains":"Second Factor Authentication initiated","state":"two_factor_pending"}]',
    });
    expect(logPatternsOf(config)[0]).toEqual({
      contains: 'Second Factor Authentication initiated',
      state: 'two_factor_pending',
    });
  });

  it.each([
    [
      'a log line mapped to an unknown gateway state',
      { GATEWAY_LOG_PATTERNS_JSON: '[{"contains":"Login in progress","state":"logging_in"}]' },
      /GATEWAY_LOG_PATTERNS_JSON: 0\.state: /,
    ],
    [
      'log lines that are not JSON',
      { GATEWAY_LOG_PATTERNS_JSON: 'contains=Login' },
      /GATEWAY_LOG_PATTERNS_JSON: must be JSON/,
    ],
    ['a reset window in an unknown region', { RESET_WINDOWS_JSON: '{"mars":[]}' }, /RESET_WINDOWS_JSON: /],
    [
      'a paper login under live mode',
      {
        TRADING_MODE: 'live',
        LIVE_TRADING_CONFIRMATION: 'I-ACCEPT-REAL-ORDERS-WITH-REAL-MONEY',
        IB_LOGINTYPE: 'Paper Trading',
      },
      /IB_LOGINTYPE: "Paper Trading" disagrees with TRADING_MODE=live/,
    ],
    ['a live login under paper mode', { IB_LOGINTYPE: 'Live Trading' }, /disagrees with TRADING_MODE=paper/],
    ['a login type IBGA does not accept', { IB_LOGINTYPE: 'paper' }, /IB_LOGINTYPE: must be exactly/],
    [
      'one client id for the session and the probe',
      { PROBE_CLIENT_ID: '90' },
      /PROBE_CLIENT_ID: must differ/,
    ],
  ] as const)('refuses %s, naming the setting', (_case, env, message) => {
    expect(refusal(env)).toMatch(message);
  });

  it('exits 78 with the message before connecting to anything', async () => {
    // NATS on a port nobody listens on: a supervisor that got as far as connecting would not exit 78.
    const supervisor = spawnTs(join(__dirname, '..', 'src', 'main.ts'), [], {
      NATS_URL: `nats://127.0.0.1:${await freePort()}`,
      HTTP_PORT: '0',
      GATEWAY_LOG_PATTERNS_JSON: '[{"contains":"Login in progress","state":"logging_in"}]',
    });
    const stderr: string[] = [];
    supervisor.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const { code } = await supervisor.exited;
    expect(code).toBe(78);
    expect(stderr.join('')).toMatch(/GATEWAY_LOG_PATTERNS_JSON: 0\.state: /);
  });
});
