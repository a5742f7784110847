/**
 * Replayed prices from a CSV file instead of the random walk. Header (any column order):
 * `time,instrument,bid,ask` with optional `last,bidSize,askSize`. `time` is ISO 8601, epoch milliseconds or
 * epoch seconds; `instrument` is `EUR.CAD` or `EURCAD`. The quote at time t is the last row at or before t
 * (the first row before the file starts), so replay and history agree like the walk does.
 */
import { readFileSync } from 'node:fs';

import { PriceFileError } from '../errors';

export interface CsvRow {
  time: number;
  bid: number;
  ask: number;
  last?: number;
  bidSize?: number;
  askSize?: number;
}

function parseTime(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const value = Number(trimmed);
    return value < 100_000_000_000 ? value * 1000 : value;
  }
  return Date.parse(trimmed);
}

export class CsvPrices {
  private constructor(private readonly rows: ReadonlyMap<string, CsvRow[]>) {}

  static fromFile(path: string): CsvPrices {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new PriceFileError(`cannot read price file: ${(error as Error).message}`, path, undefined, {
        cause: error,
      });
    }
    return CsvPrices.parse(text, path);
  }

  static parse(text: string, path = '<inline>'): CsvPrices {
    const lines = text.split(/\r?\n/);
    const header = (lines[0] ?? '').split(',').map((name) => name.trim());
    const column = (name: string) => header.indexOf(name);
    for (const required of ['time', 'instrument', 'bid', 'ask']) {
      if (column(required) < 0) throw new PriceFileError(`missing column "${required}"`, path, 1);
    }
    const rows = new Map<string, CsvRow[]>();
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index]!.trim();
      if (!line || line.startsWith('#')) continue;
      const cells = line.split(',');
      const cell = (name: string) => (column(name) >= 0 ? (cells[column(name)] ?? '').trim() : '');
      const optional = (name: string) => (cell(name) === '' ? undefined : Number(cell(name)));
      const row: CsvRow = {
        time: parseTime(cell('time')),
        bid: Number(cell('bid')),
        ask: Number(cell('ask')),
        last: optional('last'),
        bidSize: optional('bidSize'),
        askSize: optional('askSize'),
      };
      const numbers = [row.time, row.bid, row.ask, row.last ?? 0, row.bidSize ?? 0, row.askSize ?? 0];
      if (numbers.some((value) => !Number.isFinite(value)) || row.bid <= 0 || row.ask < row.bid) {
        throw new PriceFileError(`malformed row "${line}"`, path, index + 1);
      }
      const key = cell('instrument')
        .toUpperCase()
        .replace(/[^A-Z0-9_]/g, '');
      if (!key) throw new PriceFileError('row without an instrument', path, index + 1);
      const list = rows.get(key) ?? [];
      list.push(row);
      rows.set(key, list);
    }
    if (rows.size === 0) throw new PriceFileError('no price rows', path);
    for (const list of rows.values()) list.sort((a, b) => a.time - b.time);
    return new CsvPrices(rows);
  }

  has(key: string): boolean {
    return this.rows.has(key);
  }

  instruments(): string[] {
    return [...this.rows.keys()];
  }

  /** The row in force at `time` (binary search). */
  at(key: string, time: number): CsvRow | undefined {
    const list = this.rows.get(key);
    if (!list || list.length === 0) return undefined;
    let low = 0;
    let high = list.length - 1;
    if (time < list[0]!.time) return list[0];
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (list[middle]!.time <= time) low = middle;
      else high = middle - 1;
    }
    return list[low];
  }
}
