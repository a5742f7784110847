import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '@ibstack/config';

import { checkIngestorEnv, ingestorEnv } from '../src';

const load = (env: Record<string, string>) =>
  loadConfig('ingestor', ingestorEnv, env, { checks: [checkIngestorEnv] });

describe('ingestor configuration', () => {
  it('has defaults that work against a local gateway, Postgres and NATS', () => {
    const config = load({});
    expect(config).toMatchObject({
      HTTP_PORT: 9401,
      IB_CLIENT_ID: 20,
      IB_PORT: 4002,
      TIMEFRAMES: ['1m'],
      STORE_TICKS: [],
      BACKFILL_DAYS: 5,
      BACKFILL_CHUNK_SECONDS: 86_400,
      STOCK_WHAT_TO_SHOW: 'TRADES',
      PACING_MAX_REQUESTS: 60,
      PACING_WINDOW_MS: 600_000,
      PACING_IDENTICAL_WINDOW_MS: 15_000,
      PACING_SAME_CONTRACT_MAX_REQUESTS: 5,
      PACING_SAME_CONTRACT_WINDOW_MS: 2_000,
    });
    expect(config.INSTRUMENTS).toEqual([
      { symbol: 'EUR', secType: 'CASH', exchange: 'IDEALPRO', currency: 'CAD', localSymbol: 'EUR.CAD' },
    ]);
  });

  it('reads lists of forex pairs, stocks and timeframes, always keeping 1m first', () => {
    const config = load({
      INSTRUMENTS: 'EUR.CAD, USD.JPY,AAPL',
      TIMEFRAMES: '1h,5m',
      STORE_TICKS: 'USD.JPY',
    });
    expect(config.INSTRUMENTS.map((instrument) => instrument.symbol)).toEqual(['EUR', 'USD', 'AAPL']);
    expect(config.TIMEFRAMES).toEqual(['1m', '5m', '1h']);
    expect(config.STORE_TICKS).toEqual(['USDJPY']);
  });

  it('lists every problem at once: a bad instrument, a bad timeframe, a bad number, a tick store for no instrument', () => {
    let error: unknown;
    try {
      load({
        INSTRUMENTS: 'EUR.CAD,eur/usd,EUR.CAD',
        TIMEFRAMES: '1m,7m,5s',
        BACKFILL_DAYS: 'five',
        BACKFILL_CHUNK_SECONDS: '172800',
        STORE_TICKS: 'GBP.USD',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('instrument "eur/usd"');
    expect(problems).toContain('"EUR.CAD" is listed twice');
    expect(problems).toContain('"7m" is not a bar timeframe');
    expect(problems).toContain('"5s" is not a bar timeframe');
    expect(problems).toContain('BACKFILL_DAYS');
    expect(problems).toContain('BACKFILL_CHUNK_SECONDS');
    expect(problems).toContain('STORE_TICKS: "GBP.USD" is not among INSTRUMENTS');
    expect((error as ConfigError).problems.length).toBeGreaterThanOrEqual(7);
  });

  it('stops the process at start with every problem listed (exit 78)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'src', 'main.ts')], {
      env: { ...process.env, INSTRUMENTS: 'EUR.CAD,not a pair', TIMEFRAMES: '2m', HTTP_PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('ingestor: invalid configuration (2 problems)');
    expect(result.stderr).toContain('"not a pair"');
    expect(result.stderr).toContain('"2m" is not a bar timeframe');
  });
});
