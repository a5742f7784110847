/**
 * Bars, coverage, ticks, instruments and the historical requests sent lately (IB's pacing state) in
 * Postgres. Bars are keyed (instrument, timeframe, ts): writing
 * the same bar twice leaves one row untouched, writing a revised bar replaces the old one. A batch of bars
 * and the history windows it came from commit together, so a crash never leaves a window marked as
 * fetched without its bars.
 *
 * Two bulk paths, measured against each other (`npm run bench -- ingestor`): a multi-row
 * `insert … on conflict do update`, and `copy` into a temporary staging table followed by the same upsert
 * from it (COPY itself cannot resolve conflicts). Neither wins everywhere: the insert is faster for the
 * small batches of live bars, COPY for backfill chunks, so `auto` (the default) picks by batch size.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

import { connectDatabase, type DatabaseHandle, sql } from '@ibstack/db';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

import type { Ohlcv } from '../domain/bars';
import type { PacingRecord } from '../domain/pacing';
import type { Interval } from '../domain/trading-hours';
import type { ResolvedInstrument } from './ib-market-data';

export type BarWriteMethod = 'insert' | 'copy' | 'auto';

/**
 * Where COPY starts to win. Measured here (`npm run bench -- ingestor`, local Postgres 15, 2 cores): a
 * multi-row insert of 10 bars takes about 1.2 ms against 2.3 ms for COPY (staging table round trips), at
 * 100 bars they are even (about 3 ms), and a day of 1-minute bars (1440) takes 27 ms against 18 ms.
 */
export const COPY_MIN_ROWS = 100;

export interface BarRow extends Ohlcv {
  instrument: string;
  timeframe: string;
  source: 'live' | 'backfill';
}

export interface CoverageRow extends Interval {
  instrument: string;
  timeframe: string;
}

export interface TickRow {
  instrument: string;
  ts: number;
  seq: number;
  bid: string | null;
  ask: string | null;
  last: string | null;
  bidSize: string | null;
  askSize: string | null;
  lastSize: string | null;
}

const BAR_COLUMNS = ['instrument', 'timeframe', 'ts', 'open', 'high', 'low', 'close', 'volume', 'source'];
/** Rows per multi-row statement: far below Postgres' 65535 bind parameters (9 per row). */
const ROWS_PER_STATEMENT = 1_000;

const UPSERT_TAIL = `on conflict (instrument, timeframe, ts) do update set
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    volume = excluded.volume, source = excluded.source, updated_at = now()
  where (bars.open, bars.high, bars.low, bars.close, bars.volume)
    is distinct from (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume)`;

/** Keeps the last row per key: one statement may not update the same row twice. */
function lastPerKey(rows: readonly BarRow[]): BarRow[] {
  const byKey = new Map<string, BarRow>();
  for (const row of rows) byKey.set(`${row.instrument}\u0000${row.timeframe}\u0000${row.ts}`, row);
  return [...byKey.values()];
}

function barValues(row: BarRow): unknown[] {
  return [
    row.instrument,
    row.timeframe,
    new Date(row.ts).toISOString(),
    row.open,
    row.high,
    row.low,
    row.close,
    row.volume,
    row.source,
  ];
}

/** COPY text format: tab-separated, with backslash escapes for the few characters that need them. */
function copyField(value: unknown): string {
  return String(value).replace(
    /[\\\t\n\r]/g,
    (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!,
  );
}

export class PgBarStore {
  constructor(
    readonly handle: DatabaseHandle,
    private readonly method: BarWriteMethod,
  ) {}

  static async connect(
    url: string,
    method: BarWriteMethod,
    onError?: (error: Error) => void,
  ): Promise<PgBarStore> {
    const handle = await connectDatabase(url, { applicationName: 'ingestor', maxConnections: 6, onError });
    return new PgBarStore(handle, method);
  }

  get pool(): pg.Pool {
    return this.handle.pool;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('select 1');
      return true;
    } catch {
      return false;
    }
  }

  async upsertInstrument(resolved: ResolvedInstrument): Promise<void> {
    const row = {
      instrument: resolved.key,
      symbol: resolved.instrument.symbol,
      sec_type: resolved.instrument.secType,
      exchange: resolved.instrument.exchange,
      currency: resolved.instrument.currency,
      local_symbol: resolved.contract.localSymbol ?? resolved.instrument.localSymbol ?? null,
      con_id: resolved.conId,
      min_tick: resolved.minTick === undefined ? null : String(resolved.minTick),
      time_zone: resolved.timeZoneId,
      trading_hours: resolved.tradingHours,
      liquid_hours: resolved.liquidHours,
    };
    await this.handle.db
      .insertInto('instruments')
      .values(row)
      .onConflict((oc) => oc.column('instrument').doUpdateSet({ ...row, updated_at: sql`now()` }))
      .execute();
  }

  /**
   * Writes bars (and the history windows they came from) in one transaction. Returns how many rows were
   * inserted or changed; an identical bar written again counts 0.
   */
  async writeBars(
    rows: readonly BarRow[],
    coverage: readonly CoverageRow[] = [],
    method: BarWriteMethod = this.method,
  ): Promise<number> {
    const unique = lastPerKey(rows);
    if (unique.length === 0 && coverage.length === 0) return 0;
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const useCopy = method === 'copy' || (method === 'auto' && unique.length >= COPY_MIN_ROWS);
      const written = useCopy ? await copyBars(client, unique) : await insertBars(client, unique);
      for (const window of coverage) {
        await client.query(
          `insert into bar_coverage (instrument, timeframe, start_ts, end_ts) values ($1, $2, $3, $4)
           on conflict do nothing`,
          [window.instrument, window.timeframe, new Date(window.start), new Date(window.end)],
        );
      }
      await client.query('commit');
      return written;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async writeTicks(rows: readonly TickRow[]): Promise<void> {
    for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
      const slice = rows.slice(offset, offset + ROWS_PER_STATEMENT);
      const values: unknown[] = [];
      const tuples = slice.map((row, i) => {
        values.push(
          row.instrument,
          new Date(row.ts).toISOString(),
          row.seq,
          row.bid,
          row.ask,
          row.last,
          row.bidSize,
          row.askSize,
          row.lastSize,
        );
        return `(${Array.from({ length: 9 }, (_, j) => `$${i * 9 + j + 1}`).join(', ')})`;
      });
      await this.pool.query(
        `insert into ticks (instrument, ts, seq, bid, ask, last, bid_size, ask_size, last_size)
         values ${tuples.join(', ')} on conflict do nothing`,
        values,
      );
    }
  }

  /** Open times (epoch ms) of the stored bars in [from, to). */
  async storedBarTimes(
    instrument: string,
    timeframe: string,
    from: number,
    to: number,
  ): Promise<Set<number>> {
    const rows = await this.handle.db
      .selectFrom('bars')
      .select('ts')
      .where('instrument', '=', instrument)
      .where('timeframe', '=', timeframe)
      .where('ts', '>=', new Date(from))
      .where('ts', '<', new Date(to))
      .execute();
    return new Set(rows.map((row) => row.ts.getTime()));
  }

  /** Stored bars in [from, to), oldest first. */
  async barsBetween(instrument: string, timeframe: string, from: number, to: number): Promise<Ohlcv[]> {
    const rows = await this.handle.db
      .selectFrom('bars')
      .select(['ts', 'open', 'high', 'low', 'close', 'volume'])
      .where('instrument', '=', instrument)
      .where('timeframe', '=', timeframe)
      .where('ts', '>=', new Date(from))
      .where('ts', '<', new Date(to))
      .orderBy('ts')
      .execute();
    return rows.map((row) => ({ ...row, ts: row.ts.getTime() }));
  }

  /**
   * Stores historical requests as sent (IB's pacing counts them for ten minutes whether or not we are
   * still running) and drops those sent before `pruneBefore` (epoch ms). Writing a record twice is a no-op.
   */
  async writeHistoryRequests(records: readonly PacingRecord[], pruneBefore: number): Promise<void> {
    if (records.length > 0)
      await this.handle.db
        .insertInto('history_requests')
        .values(
          records.map((record) => ({
            sent_at: new Date(record.at),
            signature: record.identity,
            contract_key: record.contract,
            weight: record.weight,
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    await this.handle.db
      .deleteFrom('history_requests')
      .where('sent_at', '<', new Date(pruneBefore))
      .execute();
  }

  /** Historical requests sent at or after `since` (epoch ms), oldest first. */
  async historyRequestsSince(since: number): Promise<PacingRecord[]> {
    const rows = await this.handle.db
      .selectFrom('history_requests')
      .select(['sent_at', 'signature', 'contract_key', 'weight'])
      .where('sent_at', '>=', new Date(since))
      .orderBy('sent_at')
      .execute();
    return rows.map((row) => ({
      at: row.sent_at.getTime(),
      identity: row.signature,
      contract: row.contract_key,
      weight: row.weight,
    }));
  }

  /** History windows recorded as fetched that overlap [from, to). */
  async coverage(instrument: string, timeframe: string, from: number, to: number): Promise<Interval[]> {
    const rows = await this.handle.db
      .selectFrom('bar_coverage')
      .select(['start_ts', 'end_ts'])
      .where('instrument', '=', instrument)
      .where('timeframe', '=', timeframe)
      .where('end_ts', '>', new Date(from))
      .where('start_ts', '<', new Date(to))
      .execute();
    return rows.map((row) => ({ start: row.start_ts.getTime(), end: row.end_ts.getTime() }));
  }
}

/** Multi-row `insert … on conflict do update`, in statements of ROWS_PER_STATEMENT rows. */
export async function insertBars(client: pg.ClientBase, rows: readonly BarRow[]): Promise<number> {
  let written = 0;
  for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
    const slice = rows.slice(offset, offset + ROWS_PER_STATEMENT);
    const values: unknown[] = [];
    const tuples = slice.map((row, i) => {
      values.push(...barValues(row));
      const base = i * BAR_COLUMNS.length;
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}::numeric, $${base + 5}::numeric, $${base + 6}::numeric, $${base + 7}::numeric, $${base + 8}::numeric, $${base + 9})`;
    });
    const result = await client.query(
      `insert into bars (${BAR_COLUMNS.join(', ')}) values ${tuples.join(', ')} ${UPSERT_TAIL}`,
      values,
    );
    written += result.rowCount ?? 0;
  }
  return written;
}

/**
 * COPY into a session-local staging table, then one upsert from it. The staging table is emptied at
 * commit, so a pooled connection reuses it.
 */
export async function copyBars(client: pg.ClientBase, rows: readonly BarRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  await client.query(
    `create temporary table if not exists bars_staging
       (instrument text, timeframe text, ts timestamptz, open numeric, high numeric, low numeric,
        close numeric, volume numeric, source text) on commit delete rows`,
  );
  const text = rows.map((row) => barValues(row).map(copyField).join('\t')).join('\n') + '\n';
  await pipeline(
    Readable.from([text]),
    client.query(copyFrom(`copy bars_staging (${BAR_COLUMNS.join(', ')}) from stdin`)),
  );
  const result = await client.query(
    `insert into bars (${BAR_COLUMNS.join(', ')}) select ${BAR_COLUMNS.join(', ')} from bars_staging ${UPSERT_TAIL}`,
  );
  return result.rowCount ?? 0;
}
