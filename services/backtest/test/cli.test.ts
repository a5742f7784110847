/**
 * `npm run backtest` as a user runs it: a bad argument stops it with a message naming the argument; a run on
 * a CSV file writes trades, intents, equity, statistics and a PNG chart, and logs its progress (not a
 * terminal here, so lines rather than a bar).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { spawnTs } from '@ibstack/test-kit';

import { syntheticBars } from '../src/synthetic-bars';

const CLI = join(__dirname, '..', 'src', 'cli.ts');
const DEMO = join(__dirname, '..', '..', 'strategy', 'config', 'demo.yaml');

async function run(args: string[]) {
  const child = spawnTs(CLI, args, { LOG_LEVEL: 'error' });
  const stderr: string[] = [];
  child.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const { code } = await child.exited;
  return { code, stdout: child.lines.join('\n'), stderr: stderr.join('') };
}

describe('npm run backtest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-backtest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops with exit 2 and a message naming the argument when one is bad', async () => {
    const { code, stderr } = await run(['--sleeves', join(dir, 'missing.yaml'), '--from', '2026-11-01']);
    expect(code).toBe(2);
    expect(stderr).toContain('backtest: --sleeves: ');
    expect(stderr).toContain('missing.yaml');
    expect(stderr).toContain('usage: npm run backtest');
  }, 180_000);

  it('replays a CSV of bars and writes the report and a PNG chart', async () => {
    const from = Date.parse('2026-11-02T00:00:00Z');
    const bars = syntheticBars({
      instrument: 'EURCAD',
      timeframe: '1m',
      fromMs: from - 10 * 60_000,
      count: 1500,
      start: 1.5,
      volatility: 0.0002,
      decimals: 5,
      seed: 3,
    });
    const csv = join(dir, 'bars.csv');
    writeFileSync(
      csv,
      `ts,instrument,open,high,low,close,volume\n${bars
        .map((b) => `${b.ts},EUR.CAD,${b.open},${b.high},${b.low},${b.close},0`)
        .join('\n')}\n`,
    );
    const out = join(dir, 'report');
    const { code, stdout, stderr } = await run([
      '--sleeves',
      DEMO,
      '--from',
      '2026-11-02',
      '--to',
      '2026-11-03',
      '--bars',
      csv,
      '--out',
      out,
    ]);
    expect({ code, stderr }).toMatchObject({ code: 0 });
    expect(stderr).toContain('backtest: 1440/1440 bars (100%)');
    expect(stdout).toContain('bars replayed');
    expect(stdout).toMatch(/max drawdown\s+\d+\.\d\d%/);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      barsReplayed: number;
      statistics: { fills: number; commissionsUsd: number };
    };
    expect(summary.barsReplayed).toBe(1440);
    const trades = readFileSync(join(out, 'trades.csv'), 'utf8').trim().split('\n');
    expect(trades[0]).toBe(
      'time,sleeve,instrument,side,quantity,price,commission_usd,realized_pnl_usd,intent_id,exec_id',
    );
    expect(trades.length - 1).toBe(summary.statistics.fills);
    expect(summary.statistics.fills).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'equity.csv'), 'utf8').trim().split('\n')).toHaveLength(1441);
    const png = readFileSync(join(out, 'chart.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(20_000);
  }, 180_000);
});
