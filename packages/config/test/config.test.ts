import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  commonEnv,
  ConfigError,
  gatewayEnv,
  LIVE_CONFIRMATION_PHRASE,
  loadConfig,
  resolveTradingMode,
  tradingModeCheck,
  tradingModeEnv,
} from '@ibstack/config';
import { z } from 'zod';

const schema = commonEnv
  .extend(gatewayEnv.shape)
  .extend(tradingModeEnv.shape)
  .extend({ SECRET_TOKEN: z.string().min(8) });

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('applies developer-machine defaults', () => {
    const config = loadConfig('svc', schema, {
      HTTP_PORT: '9100',
      IB_CLIENT_ID: '3',
      SECRET_TOKEN: 'abcdefgh',
    });
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/ibstack');
    expect(config.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(config.IB_PORT).toBe(4002);
    expect(config.NATS_REPLICAS).toBe(1);
    expect(config.LOG_LEVEL).toBe('info');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every bad or missing variable in one error', () => {
    const problems = problemsOf(() =>
      loadConfig('svc', schema, {
        HTTP_PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        NATS_URL: 'localhost',
        LOG_LEVEL: 'loud',
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^HTTP_PORT: /),
        expect.stringMatching(/^DATABASE_URL: must be a URL/),
        expect.stringMatching(/^NATS_URL: /),
        expect.stringMatching(/^LOG_LEVEL: /),
        'IB_CLIENT_ID: is required but not set',
        'SECRET_TOKEN: is required but not set',
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('takes 1, 3 or 5 NATS replicas and names NATS_REPLICAS for anything else', () => {
    const base = { HTTP_PORT: '9100', IB_CLIENT_ID: '3', SECRET_TOKEN: 'abcdefgh' };
    expect(loadConfig('svc', schema, { ...base, NATS_REPLICAS: '3' }).NATS_REPLICAS).toBe(3);
    for (const value of ['2', 'three', '0'])
      expect(problemsOf(() => loadConfig('svc', schema, { ...base, NATS_REPLICAS: value }))).toEqual([
        expect.stringMatching(/^NATS_REPLICAS: must be 1, 3 or 5/),
      ]);
  });

  it('the error message names the service and each problem on its own line', () => {
    try {
      loadConfig('ingestor', schema, {});
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as Error).message).toMatch(
        /^ingestor: invalid configuration \(3 problems\):\n {2}- HTTP_PORT/,
      );
    }
  });

  describe('_FILE secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-config-'));
    const secretFile = join(dir, 'token');
    writeFileSync(secretFile, 's3cr3t-value\n');

    it('reads NAME from the file NAME_FILE names, without the trailing newline', () => {
      const config = loadConfig('svc', schema, {
        HTTP_PORT: '0',
        IB_CLIENT_ID: '1',
        SECRET_TOKEN_FILE: secretFile,
      });
      expect(config.SECRET_TOKEN).toBe('s3cr3t-value');
    });

    it('reports an unreadable file and refuses both NAME and NAME_FILE', () => {
      expect(
        problemsOf(() =>
          loadConfig('svc', schema, {
            HTTP_PORT: '0',
            IB_CLIENT_ID: '1',
            SECRET_TOKEN_FILE: join(dir, 'missing'),
          }),
        ),
      ).toEqual([expect.stringMatching(/^SECRET_TOKEN_FILE: cannot read ".*missing" \(ENOENT\)/)]);
      expect(
        problemsOf(() =>
          loadConfig('svc', schema, {
            HTTP_PORT: '0',
            IB_CLIENT_ID: '1',
            SECRET_TOKEN: 'abcdefgh',
            SECRET_TOKEN_FILE: secretFile,
          }),
        ),
      ).toEqual(['SECRET_TOKEN: set either SECRET_TOKEN or SECRET_TOKEN_FILE, not both']);
    });

    it('names an empty secret file instead of validating an empty value', () => {
      const empty = join(dir, 'empty');
      writeFileSync(empty, '\n');
      expect(
        problemsOf(() =>
          loadConfig('svc', schema, { HTTP_PORT: '0', IB_CLIENT_ID: '1', SECRET_TOKEN_FILE: empty }),
        ),
      ).toEqual([`SECRET_TOKEN_FILE: "${empty}" is empty`]);
    });
  });

  describe('trading mode', () => {
    it('is paper unless live is set and confirmed', () => {
      expect(resolveTradingMode({})).toEqual({ ok: true, mode: 'paper' });
      expect(resolveTradingMode({ TRADING_MODE: 'paper' })).toEqual({ ok: true, mode: 'paper' });
      expect(
        resolveTradingMode({ TRADING_MODE: 'live', LIVE_TRADING_CONFIRMATION: LIVE_CONFIRMATION_PHRASE }),
      ).toEqual({
        ok: true,
        mode: 'live',
      });
    });

    it('refuses live without the confirmation, and a confirmation without live', () => {
      expect(resolveTradingMode({ TRADING_MODE: 'live' }).ok).toBe(false);
      expect(resolveTradingMode({ TRADING_MODE: 'live', LIVE_TRADING_CONFIRMATION: 'yes' }).ok).toBe(false);
      expect(resolveTradingMode({ LIVE_TRADING_CONFIRMATION: LIVE_CONFIRMATION_PHRASE }).ok).toBe(false);
      expect(resolveTradingMode({ TRADING_MODE: 'LIVEE' }).ok).toBe(false);
    });

    it('lists a trading-mode problem together with the others', () => {
      const problems = problemsOf(() =>
        loadConfig(
          'svc',
          schema,
          { TRADING_MODE: 'live', IB_CLIENT_ID: '1', SECRET_TOKEN: 'abcdefgh' },
          { checks: [tradingModeCheck] },
        ),
      );
      expect(problems).toEqual([
        'HTTP_PORT: is required but not set',
        expect.stringMatching(/^LIVE_TRADING_CONFIRMATION: live mode requires/),
      ]);
    });
  });
});
