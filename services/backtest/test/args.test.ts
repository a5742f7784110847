import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseBacktestArgs } from '../src/args';
import { loadBarsFromCsv } from '../src/bar-source';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const STREAMS = [{ instrument: 'EURCAD' as never, timeframe: '1m' as const, warmupBars: 2 }];

describe('backtest arguments', () => {
  it('reads the run from the command line, with defaults for --to, --out and --cash', () => {
    expect(parseBacktestArgs(['--sleeves', 'config/demo.yaml', '--from', '2026-11-01'], NOW)).toEqual({
      sleevesFile: 'config/demo.yaml',
      fromMs: Date.parse('2026-11-01T00:00:00Z'),
      toMs: NOW,
      barsFile: undefined,
      outDir: 'backtest-results/demo-2026-11-01-2026-12-01',
      cashUsd: undefined,
    });
    expect(
      parseBacktestArgs(
        [
          '--sleeves',
          's.yaml',
          '--from',
          '2026-11-01T14:30Z',
          '--to',
          '2026-11-02',
          '--cash',
          '50000',
          '--bars',
          'b.csv',
        ],
        NOW,
      ),
    ).toMatchObject({ fromMs: Date.parse('2026-11-01T14:30Z'), cashUsd: 50_000, barsFile: 'b.csv' });
  });

  it.each([
    [['--from', '2026-11-01'], '--sleeves: required'],
    [['--sleeves', 's.yaml'], '--from: required'],
    [['--sleeves', 's.yaml', '--from', 'yesterday'], '--from: "yesterday" is not a date'],
    [
      ['--sleeves', 's.yaml', '--from', '2026-11-01', '--to', '11/05/2026'],
      '--to: "11/05/2026" is not a date',
    ],
    [['--sleeves', 's.yaml', '--from', '2026-11-05', '--to', '2026-11-01'], '--to: must be after --from'],
    [['--sleeves', 's.yaml', '--from', '2026-11-01', '--cash', '0'], '--cash: "0" is not a positive amount'],
    [['--sleeves', 's.yaml', '--from', '2026-11-01', '--cash', 'lots'], '--cash: "lots" is not a positive'],
    [['--sleeves', 's.yaml', '--from', '2026-11-01', '--form', 'x'], "--form: Unknown option '--form'"],
    [['--sleeves', 's.yaml', '--from'], '--from: '],
  ])('%j → %s', (args, message) => {
    expect(() => parseBacktestArgs(args, NOW)).toThrow(message);
  });
});

describe('bars from a CSV file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-backtest-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const from = Date.parse('2026-11-02T00:00:00Z');

  it('keeps the window and the warm-up before it, of the instruments the sleeves follow', () => {
    const path = file(
      'ok.csv',
      [
        'ts,instrument,open,high,low,close',
        '2026-11-01T23:57:00Z,EUR.CAD,1.5,1.5,1.5,1.5',
        '2026-11-01T23:58:00Z,EUR.CAD,1.51,1.51,1.51,1.51',
        '2026-11-01T23:59:00Z,EURCAD,1.52,1.53,1.51,1.52',
        `${from / 1000},EUR.CAD,1.52,1.54,1.50,1.53`,
        '2026-11-02T00:01:00Z,AAPL,180,181,179,180',
        '2026-11-02T00:01:00Z,EUR.CAD,1.53,1.53,1.53,1.53',
        '2026-11-03T00:00:00Z,EUR.CAD,1.6,1.6,1.6,1.6',
      ].join('\n'),
    );
    const bars = loadBarsFromCsv(path, STREAMS, from, Date.parse('2026-11-03T00:00:00Z'));
    expect(bars.map((bar) => [bar.instrument, bar.ts, bar.close])).toEqual([
      ['EURCAD', '2026-11-01T23:58:00.000Z', '1.51'],
      ['EURCAD', '2026-11-01T23:59:00.000Z', '1.52'],
      ['EURCAD', '2026-11-02T00:00:00.000Z', '1.53'],
      ['EURCAD', '2026-11-02T00:01:00.000Z', '1.53'],
    ]);
  });

  it.each([
    ['ts,instrument,open,high,low\n', '--bars: ', 'no "close" column'],
    [
      'ts,instrument,open,high,low,close\nnot-a-time,EUR.CAD,1,1,1,1\n',
      '--bars: ',
      'line 2: ts "not-a-time"',
    ],
    [
      'ts,instrument,open,high,low,close\n2026-11-02T00:00:00Z,EUR.CAD,1,1,x,1\n',
      '--bars: ',
      'low "x" is not',
    ],
  ])('refuses a bad file with the line and the field: %j', (text, prefix, detail) => {
    const path = file('bad.csv', text);
    const load = () => loadBarsFromCsv(path, STREAMS, from, from + 86_400_000);
    expect(load).toThrow(new RegExp(`^${prefix}.*${detail.replace(/[()".]/g, '.')}`));
  });

  it('names the argument when the file cannot be read', () => {
    expect(() => loadBarsFromCsv(join(dir, 'missing.csv'), STREAMS, from, from + 1)).toThrow(
      /^--bars: cannot read .*missing\.csv/,
    );
  });
});
